-- Numeric IMSI order for paging through an index: IMSIs of 14 and 15 digits do
-- not sort numerically as text.
ALTER TABLE subscriber ADD COLUMN imsi_num BIGINT;
UPDATE subscriber SET imsi_num = CAST(imsi AS BIGINT);
CREATE UNIQUE INDEX subscriber_imsi_num ON subscriber (imsi_num);
