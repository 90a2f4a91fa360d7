#!/usr/bin/env bash
# Measures tlsmend on large Debian-layout Apache trees, side by side with the
# cost of reading the same files (`cat`) and of Apache's own parser
# (`apache2 -t`, when installed). A benchmark to run by hand, never in CI.
#
# Each tree has N site files in sites-available, enabled by relative symlinks
# in sites-enabled as a2ensite makes them; each site has a *:80 virtual host
# that redirects and a *:443 one inside <IfModule mod_ssl.c> with a
# certificate, <Directory>, <FilesMatch> and continuation lines.
#
# The commands run in turn (cat, audit, dry-run, apache2 -t, then again) RUNS
# times after one warm-up; each ratio is taken pair by pair and the median is
# printed, so that a machine whose speed drifts still gives a fair ratio.
# Peak memory is /usr/bin/time's maximum resident set size.
#
# With APPLY=1, each run also times, on a copy of the tree of its own (all
# made with cp -a before the first run), `apply --dry-run` and then `apply
# --yes --no-validate` with a backup folder beside it: the cost of writing
# every site file with its backup, against the dry-run that plans the same
# edits.
#
# Usage: bash benches/scale.sh [SITES ...]        (default: 1000 10000)
#        RUNS=5 TLSMEND=path/to/binary bash benches/scale.sh 100000
#        KEEP=dir bash benches/scale.sh 10000      (keep the tree in dir)
#        APPLY=1 bash benches/scale.sh 10000       (also time apply --yes)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000)
if [ -z "${TLSMEND:-}" ]; then
    cargo build --release -q
    TLSMEND=$PWD/target/release/tlsmend
fi
apache=$(command -v apache2 || true)
[ -n "$apache" ] || [ ! -x /usr/sbin/apache2 ] || apache=/usr/sbin/apache2

# generate DIR N: a Debian-layout tree with N sites under DIR/etc/apache2.
generate() {
    local t=$1 n=$2 d=$1/etc/apache2
    mkdir -p "$d"/{sites-available,sites-enabled,mods-available,mods-enabled,conf-enabled,ssl}
    openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj /CN=bench.example.test \
        -keyout "$d/ssl/key.pem" -out "$d/ssl/cert.pem" 2>/dev/null
    local m
    for m in mpm_event authz_core authz_host log_config mime ssl socache_shmcb headers rewrite alias; do
        [ -f "/etc/apache2/mods-available/$m.load" ] || continue
        cp "/etc/apache2/mods-available/$m.load" "$d/mods-available/"
        ln -s "../mods-available/$m.load" "$d/mods-enabled/$m.load"
    done
    cat > "$d/apache2.conf" <<'EOF'
# A Debian-style main file that needs no envvars: ServerRoot comes from -d.
DefaultRuntimeDir /tmp
PidFile /tmp/tlsmend-bench.pid
Timeout 300
KeepAlive On
LogLevel warn
ErrorLog /dev/null
ServerName localhost
IncludeOptional mods-enabled/*.load
IncludeOptional mods-enabled/*.conf
Include ports.conf
<Directory />
    Options FollowSymLinks
    AllowOverride None
    Require all denied
</Directory>
AccessFileName .htaccess
IncludeOptional conf-enabled/*.conf
IncludeOptional sites-enabled/*.conf
EOF
    printf 'Listen 80\n<IfModule ssl_module>\n    Listen 443\n</IfModule>\n' > "$d/ports.conf"
    printf '<IfModule mod_ssl.c>\n    SSLRandomSeed startup builtin\n    SSLSessionCache shmcb:/tmp/tlsmend-bench-scache(512000)\n    SSLProtocol all -SSLv3\n</IfModule>\n' \
        > "$d/conf-enabled/ssl-global.conf"
    # One awk process writes every site file: a shell loop would take longer
    # than what is measured.
    awk -v n="$n" -v dir="$d" 'BEGIN {
        for (i = 1; i <= n; i++) {
            s = sprintf("s%06d", i); f = dir "/sites-available/" s ".conf"
            printf "# %s: managed by hand\n<VirtualHost *:80>\n", s > f
            printf "    ServerName %s.example.test\n    ServerAlias www.%s.example.test\n", s, s > f
            printf "    ServerAdmin webmaster@%s.example.test\n    DocumentRoot /var/www/html\n", s > f
            printf "    RewriteEngine on\n    RewriteCond %%{HTTPS} !=on\n", s > f
            printf "    RewriteRule ^/?(.*) https://%%{SERVER_NAME}/$1 [R=301,L]\n", s > f
            printf "    CustomLog /var/log/apache2/%s-access.log combined\n</VirtualHost>\n\n", s > f
            printf "<IfModule mod_ssl.c>\n<VirtualHost *:443>\n", s > f
            printf "    ServerName %s.example.test\n    ServerAlias www.%s.example.test\n", s, s > f
            printf "    DocumentRoot /var/www/html\n" > f
            printf "    SSLEngine on\n    SSLCertificateFile ssl/cert.pem\n    SSLCertificateKeyFile ssl/key.pem\n", s > f
            printf "    SSLProtocol all -SSLv3 -TLSv1\n    SSLCipherSuite \\\n        HIGH:MEDIUM:!aNULL:!MD5:!RC4\n", s > f
            printf "    <Directory /var/www/%s/htdocs>\n        Options -Indexes \\\n            +FollowSymLinks\n", s > f
            printf "        AllowOverride None\n        Require all granted\n    </Directory>\n", s > f
            printf "    <FilesMatch \"\\.(cgi|shtml|phtml|php)$\">\n        SSLOptions +StdEnvVars\n    </FilesMatch>\n", s > f
            printf "    CustomLog /var/log/apache2/%s-ssl.log combined\n</VirtualHost>\n</IfModule>\n", s > f
            close(f)
        }
    }'
    # a2ensite's relative symlinks, made by a few ln processes, not one per site.
    (cd "$d/sites-available" && printf '../sites-available/%s\n' *.conf | xargs ln -s -t ../sites-enabled)
}

now() { date +%s%N; }
# timed OUT CMD...: runs CMD, output to /dev/null; appends "<ns> <KiB>" to OUT.
timed() {
    local out=$1 t0 t1
    shift
    t0=$(now)
    /usr/bin/time -q -o "$out.mem" -f %M "$@" > /dev/null 2>&1 || true
    t1=$(now)
    echo "$((t1 - t0)) $(tail -1 "$out.mem")" >> "$out"
}
median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

for n in "${sizes[@]}"; do
    t=${KEEP:-$(mktemp -d)}
    mkdir -p "$t"
    [ -n "${KEEP:-}" ] || trap 'rm -rf "$t"' EXIT
    [ -f "$t/etc/apache2/apache2.conf" ] || generate "$t" "$n"
    d=$t/etc/apache2
    m=$t/m
    rm -rf "$m"
    mkdir -p "$m"
    # The site files through xargs: 100,000 names exceed one argument list.
    catcmd=(sh -c 'cd "$1" && cat apache2.conf mods-enabled/*.load ports.conf conf-enabled/*.conf && printf "%s\0" sites-enabled/*.conf | xargs -0 cat' sh "$d")
    audit=("$TLSMEND" audit --root "$t" --server apache)
    dry=("$TLSMEND" apply --root "$t" --server apache --dry-run)
    ap=("$apache" -d "$d" -f "$d/apache2.conf" -t)
    if [ -n "$apache" ] && ! "${ap[@]}" > "$m/apache.out" 2>&1; then
        echo "apache2 -t fails on the generated tree, left out:" >&2
        tail -3 "$m/apache.out" >&2
        apache=
    fi
    if [ -n "${APPLY:-}" ]; then
        # Every copy is made before the first run, and removed after the
        # last: ext4 without a journal is slow to create files for one to six
        # minutes after many were deleted (it skips recently freed inodes),
        # which removing one run's copy before the next would cause. For the
        # same reason, leave a few minutes between two APPLY=1 runs.
        for r in $(seq 0 "$runs"); do
            mkdir "$m/copy$r" && cp -a "$t/etc" "$m/copy$r/etc"
        done
        sync
    fi
    for r in $(seq 0 "$runs"); do
        [ "$r" -gt 0 ] || o=warm
        [ "$r" -eq 0 ] || o=run
        timed "$m/$o.cat" "${catcmd[@]}"
        timed "$m/$o.audit" "${audit[@]}"
        timed "$m/$o.dry" "${dry[@]}"
        [ -z "$apache" ] || timed "$m/$o.apache" "${ap[@]}"
        if [ -n "${APPLY:-}" ]; then
            c=$m/copy$r
            timed "$m/$o.copydry" "$TLSMEND" apply --root "$c" --server apache --dry-run
            timed "$m/$o.yes" "$TLSMEND" apply --root "$c" --server apache --yes \
                --no-validate --backup-dir "$c.backups"
            [ -d "$c.backups" ] || { echo "apply --yes wrote no backup run" >&2; exit 1; }
        fi
    done
    bytes=$("${catcmd[@]}" | wc -c)
    col() { awk -v c="$2" '{print $c}' "$m/run.$1"; }
    ratio() { paste -d' ' <(col "$1" 1) <(col "$2" 1) | awk '{printf "%.3f\n", $1 / $2}' | median; }
    secs() { col "$1" 1 | median | awk '{printf "%.3f s", $1 / 1e9}'; }
    mib() { col "$1" 2 | median | awk '{printf "%.1f MiB", $1 / 1024}'; }
    echo "== $n sites ($((2 * n)) virtual hosts, $((bytes / 1024)) KiB read by Apache), median of $runs paired runs"
    printf '%-22s %12s %12s\n' command wall peak
    printf '%-22s %12s %12s\n' cat "$(secs cat)" "$(mib cat)"
    printf '%-22s %12s %12s\n' "tlsmend audit" "$(secs audit)" "$(mib audit)"
    printf '%-22s %12s %12s\n' "tlsmend apply --dry-run" "$(secs dry)" "$(mib dry)"
    [ -z "$apache" ] || printf '%-22s %12s %12s\n' "apache2 -t" "$(secs apache)" "$(mib apache)"
    echo "audit / cat:        $(ratio audit cat)"
    echo "dry-run / cat:      $(ratio dry cat)"
    echo "dry-run / audit:    $(ratio dry audit)"
    if [ -n "$apache" ]; then
        echo "audit / apache2 -t: $(ratio audit apache)"
        echo "dry-run / apache2 -t: $(ratio dry apache)"
    fi
    if [ -n "${APPLY:-}" ]; then
        printf '%-22s %12s %12s\n' "apply --yes" "$(secs yes)" "$(mib yes)"
        echo "apply --yes / dry-run: $(ratio yes copydry)"
        rm -rf "$m"/copy*
    fi
    echo "per site: audit $(col audit 1 | median | awk -v n="$n" '{printf "%.1f us", $1 / n / 1e3}')"
    [ -n "${KEEP:-}" ] || { rm -rf "$t"; trap - EXIT; }
done
