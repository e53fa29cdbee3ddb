#!/usr/bin/env bash
# Prints the Debian packages' version, made from `git describe --tags
# --always --dirty`: a tag v1.2.3 gives 1.2.3; 4 commits past it
# 1.2.3+4.gabc1234; a tag v1.3.0-rc1 1.3.0~rc1 (before 1.3.0); no tag at
# all 0.0+git<commits>.gabc1234, which sorts below any tagged release and
# grows with each commit, so apt upgrades from one build to a later one;
# uncommitted changes add +dirty.
# Debian versions allow [A-Za-z0-9.+~] here (no hyphen: there is no
# Debian revision), so anything else becomes a dot.
set -euo pipefail

described=$(git describe --tags --always --dirty)
dirty=""
if [[ $described == *-dirty ]]; then
  dirty="+dirty"
  described=${described%-dirty}
fi
if git describe --tags >/dev/null 2>&1; then
  # v1.2.3 or v1.2.3-4-gabc1234; a pre-release tag v1.3.0-rc1 sorts
  # before v1.3.0: 1.3.0~rc1.
  tag=${described#v}
  past=""
  if [[ $tag =~ ^(.*)-([0-9]+)-(g[0-9a-f]+)$ ]]; then
    tag=${BASH_REMATCH[1]}
    past="+${BASH_REMATCH[2]}.${BASH_REMATCH[3]}"
  fi
  version="${tag//-/\~}${past}"
else
  version="0.0+git$(git rev-list --count HEAD).g${described}"
fi
version="${version}${dirty}"
version=$(printf '%s' "$version" | tr -c 'A-Za-z0-9.+~' '.')
# A Debian version starts with a digit.
if [[ ! $version =~ ^[0-9] ]]; then
  version="0.0+${version}"
fi
printf '%s\n' "$version"
