#!/bin/bash
# make-busybox-image.sh DIR: a tiny root filesystem (about 2 MB) from
# Debian's busybox-static: /bin/sh and every applet (dpkg among them), an
# empty dpkg database, root's /etc/passwd and /etc/group. Root-owned, as an
# admin's image would be.
set -eu
d=$1
bb=$(command -v busybox) || { echo "busybox is not installed (apt-get install busybox-static)" >&2; exit 1; }
file -L "$bb" 2>/dev/null | grep -q "statically linked" ||
	{ echo "$bb is not static (apt-get install busybox-static)" >&2; exit 1; }
install -d -m 0755 "$d"/{bin,etc,home,root,tmp,run,dev,proc,usr/bin,usr/local/bin,var/tmp,var/log,var/lib/dpkg/info}
chmod 1777 "$d/tmp" "$d/var/tmp"
chmod 0700 "$d/root"
install -m 0755 "$bb" "$d/bin/busybox"
for a in $("$bb" --list); do
	[ "$a" = busybox ] || ln -s busybox "$d/bin/$a"
done
: >"$d/var/lib/dpkg/status"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$d/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$d/etc/group"
chown -R root:root "$d"
