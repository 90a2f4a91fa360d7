#!/usr/bin/env bash
# Measures tlsmend on a large Apache tree: N virtual hosts in N files plus N
# in one large file (default N=10000, so 20,000 vhosts), release build.
# Prints wall time and peak memory of `audit` and `apply --dry-run`.
# Usage: bash benches/scale.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
cargo build --release -q
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
d=$t/etc/apache2
mkdir -p "$d/sites-enabled"
printf 'LoadModule headers_module x\nLoadModule alias_module x\nIncludeOptional sites-enabled/*.conf\nIncludeOptional big.conf\n' > "$d/apache2.conf"
for i in $(seq -w 1 "$n"); do
    printf '<VirtualHost *:443>\n    ServerName s%s.example.test\n    SSLEngine on\n    SSLProtocol all -SSLv3\n    <Directory /var/www/s%s>\n        Require all granted\n    </Directory>\n</VirtualHost>\n<VirtualHost *:80>\n    ServerName s%s.example.test\n</VirtualHost>\n' "$i" "$i" "$i" > "$d/sites-enabled/s$i.conf"
done
for i in $(seq 1 "$n"); do
    printf '<VirtualHost *:443>\n    ServerName b%s.example.test\n    SSLEngine on\n    Header add Strict-Transport-Security "max-age=10"\n</VirtualHost>\n' "$i"
done > "$d/big.conf"
echo "tree: $((2 * n)) TLS vhosts, $(du -sh "$t" | cut -f1)"
/usr/bin/time -q -f "audit:   %e s, %M KB peak" ./target/release/tlsmend audit --root "$t" --server apache > /dev/null || true
/usr/bin/time -q -f "dry-run: %e s, %M KB peak" ./target/release/tlsmend apply --root "$t" --server apache --dry-run > /dev/null 2>"$t/err" || true
grep -E "^dry-run:" "$t/err" || tail -1 "$t/err"
