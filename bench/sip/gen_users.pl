#!/usr/bin/perl
# bench/sip/gen_users.pl: the users of bench/sip_bench.sh, written at run time.
#
#   gen_users.pl OUTDIR USERS CALL_USERS AKA_SIMS DOMAIN [MSG_USERS]
#
# USERS softphone subscribers, the same for both servers: IMSI 4670598xxxxxxxx,
# MSISDN 85019125xxxxxx (the SIP and digest user name: a Koryolink citizen's
# number, 8501912 + 7 digits, that the profile's numbering plan accepts and
# its demo subscribers, 85019120000001-300, do not use), a password (HA1 for
# Kamailio; koryod hashes it itself on import). They are split so that no
# binding is shared between the parts of the bench:
#   callers     the first CALL_USERS: callers and MESSAGE senders, registered
#               from the UAC's socket
#   callees     the next CALL_USERS: callees and MESSAGE recipients, registered
#               from the UAS's socket
#   registering the rest: the REGISTER benchmark, from a socket of its own
# Then MSG_USERS (default 0) MESSAGE senders and as many recipients, after the
# USERS (same numbering): the MESSAGE benchmark spreads its traffic over many
# senders and recipients, as a network's is, so that no one sender meets
# koryod's per-sender flood limit (the profile's sms_limits.csv) and no one
# recipient's queue (sms.window in flight, sms.max_per_recipient stored) is
# the bottleneck:
#   msg_senders       registered from the UAC's socket
#   msg_recipients    registered from the UAS's socket
# And, for koryod only, AKA_SIMS SIMs without a password (IMSI
# 4670597xxxxxxxx) for AKA REGISTER, made for SIPp 3.6.1: it takes aka_K and
# aka_OP as 16-byte strings and checks AUTN with the first two bytes of the
# aka_AMF string as the AMF, so K is "k" + IMSI, OP "koryo-sip-bench!" and the
# AMF "00" (hex 3030); the import gets their hex form.
# Files in OUTDIR:
#   koryod.csv        import file (docs/import.md): the users with opc and
#                     sip_password, the SIMs with op and amf
#   kamailio.sql      rows for Kamailio's subscriber table (auth_db, SQLite)
#   register.csv, callers.csv, callees.csv
#                     SIPp user files: user;[authentication ...]
#   pairs.csv         SIPp user file: caller;callee
#   msg_senders.csv, msg_recipients.csv
#                     SIPp user files (user;[authentication ...]) of the
#                     MESSAGE senders and recipients
#   msg_pairs.csv     SIPp user file: sender;recipient
#   aka.csv           SIPp user file for AKA REGISTER (-t ui -ip_field 2):
#                     IMSI;[authentication ...];source address. Each SIM
#                     sends from an address of its own in 127.1-15.x.y, as
#                     phones do, so that the rejections SIPp's AKA bug causes
#                     do not add up against one source in koryod's limiter
#                     (10 failures a minute), and none is 127.0.0.1
#   aka-keys.tsv      IMSI, K, OP, AMF (hex) of the SIMs, to explain rejections
# Deterministic: the same arguments give the same files.
use strict;
use warnings;
use Digest::MD5 qw(md5_hex);

die "usage: $0 OUTDIR USERS CALL_USERS AKA_SIMS DOMAIN [MSG_USERS]\n" unless @ARGV == 5 || @ARGV == 6;
my ($out, $users, $call_users, $aka_sims, $domain, $msg_users) = @ARGV;
$msg_users //= 0;
die "USERS must be a number\n"      unless $users =~ /^[0-9]+$/;
die "CALL_USERS must be a number\n" unless $call_users =~ /^[0-9]+$/ && $call_users >= 1;
die "USERS must be at least 2 * CALL_USERS + 100\n" if $users < 2 * $call_users + 100;
die "MSG_USERS must be a number\n" unless $msg_users =~ /^[0-9]+$/;
die "USERS + 2 * MSG_USERS must be below 1000000\n" if $users + 2 * $msg_users >= 1000000;
die "AKA_SIMS must be 1..900000\n" unless $aka_sims =~ /^[0-9]+$/ && $aka_sims >= 1 && $aka_sims <= 900000;

sub out {
	my ($name) = @_;
	open(my $fh, '>', "$out/$name") or die "$out/$name: $!\n";
	return $fh;
}

my $kor = out('koryod.csv');
my $sql = out('kamailio.sql');
my %sipp = map { $_ => out("$_.csv") } qw(register callers callees pairs aka msg_senders msg_recipients msg_pairs);
print { $sipp{$_} } "SEQUENTIAL\n" for keys %sipp;
print $kor "imsi,msisdn,class,status,k,op,opc,amf,sip_password\n";
print $sql "BEGIN;\n";

my (@msisdn, @msg);
for my $i (0 .. $users + 2 * $msg_users - 1) {
	my $imsi  = sprintf('4670598%08d', $i);
	my $user  = sprintf('85019125%06d', $i);
	# Printable, never starting with "0x" (SIPp would decode it as hex).
	my $pw    = 'pw' . substr(md5_hex("koryo-sip-bench-password-$i"), 0, 14);
	my $k     = md5_hex("koryo-sip-bench-k-$i");
	my $opc   = md5_hex("koryo-sip-bench-opc-$i");
	my $ha1   = md5_hex("$user:$domain:$pw");
	my $ha1b  = md5_hex("$user\@$domain:$domain:$pw");
	print $kor "$imsi,$user,citizen,active,$k,,$opc,,$pw\n";
	print $sql "INSERT INTO subscriber(username, domain, password, ha1, ha1b) "
	    . "VALUES('$user', '$domain', '', '$ha1', '$ha1b');\n";
	my $line = "$user;[authentication username=$user password=$pw]\n";
	if ($i < $call_users) {
		print { $sipp{callers} } $line;
	} elsif ($i < 2 * $call_users) {
		print { $sipp{callees} } $line;
	} elsif ($i < $users) {
		print { $sipp{register} } $line;
	} elsif ($i < $users + $msg_users) {
		print { $sipp{msg_senders} } $line;
	} else {
		print { $sipp{msg_recipients} } $line;
	}
	push @msisdn, $user if $i < 2 * $call_users;
	push @msg, $user if $i >= $users;
}
print $sql "COMMIT;\n";

# Caller i calls callee (i * 7) mod CALL_USERS: every callee is reached, not
# always by the same caller.
for my $i (0 .. $call_users - 1) {
	print { $sipp{pairs} } $msisdn[$i] . ';' . $msisdn[$call_users + ($i * 7) % $call_users] . "\n";
}

# Sender i texts recipient (i * 7) mod MSG_USERS (7 is prime to MSG_USERS
# unless 7 divides it: then + 1 keeps every recipient reached): SIPp takes the
# lines in order, so the messages in flight go to as many recipients.
my $step = ($msg_users % 7) ? 7 : 1;
for my $i (0 .. $msg_users - 1) {
	print { $sipp{msg_pairs} } $msg[$i] . ';' . $msg[$msg_users + ($i * $step) % $msg_users] . "\n";
}

my $keys = out('aka-keys.tsv');
my $op    = 'koryo-sip-bench!';
my $amf   = '00';
for my $i (0 .. $aka_sims - 1) {
	my $imsi = sprintf('4670597%08d', $i);
	my $k    = "k$imsi";
	my ($khex, $ophex, $amfhex) = map { unpack('H*', $_) } ($k, $op, $amf);
	printf $kor "%s,8501997%08d,citizen,active,%s,%s,,%s,\n", $imsi, $i, $khex, $ophex, $amfhex;
	my $ip = sprintf('127.%d.%d.%d', 1 + $i % 15, 1 + int($i / 15) % 250, 1 + int($i / 3750) % 250);
	print { $sipp{aka} } "$imsi;[authentication username=$imsi aka_K=$k aka_OP=$op aka_AMF=$amf];$ip\n";
	print $keys "$imsi\t$khex\t$ophex\t$amfhex\n";
}
close($_) or die "$out: $!\n" for ($kor, $sql, $keys, values %sipp);
print "users=$users callers=$call_users callees=$call_users register=" . ($users - 2 * $call_users)
    . " msg_senders=$msg_users msg_recipients=$msg_users aka_sims=$aka_sims\n";
