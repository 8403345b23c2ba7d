#!/usr/bin/env bash
# real-photos.sh DEST
#
# Real photographs for the end-to-end tests of the `images` stage: scikit-image's sample data
# (astronaut, chelsea the cat, coffee, rocket, motorcycle, hubble, retina, camera, coins, moon,
# ... and a genuinely truncated JPEG) as Debian ships them in python3-skimage. Only the .deb is
# downloaded and its data/ folder unpacked (no install, no Python needed). Prints DEST's data
# folder. Exit 3 when the package cannot be had (no network to Debian's mirror).
set -euo pipefail
dest=${1:?usage: real-photos.sh DEST}
data="$dest/usr/lib/python3/dist-packages/skimage/data"
if [[ -f $data/astronaut.png ]]; then echo "$data"; exit 0; fi
mkdir -p "$dest"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
( cd "$work" && { apt-get download -q python3-skimage >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get download -q python3-skimage >/dev/null 2>&1; }; } ) || { echo "python3-skimage could not be downloaded" >&2; exit 3; }
dpkg-deb -x "$work"/python3-skimage_*.deb "$dest"
echo "$data"
