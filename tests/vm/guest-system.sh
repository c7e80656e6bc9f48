#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# guest-system.sh - run inside the VM by tests/vm/suite.sh: `portwarden check`,
# then tests/run-system.sh once per bind tier, over the selected suites.
# Every line is prefixed with the kernel's major.minor ("6.1: ") so a CI log
# that interleaves host and guest runs says which kernel said what.
#
# Usage: guest-system.sh BUILD_DIR "TIERS" SUITE_BIN...
set -u
O=$1
TIERS=$2
shift 2
k=$(uname -r | cut -d. -f1,2)
export PW_BIN=${PW_BIN:-$O/portwarden}

# One line per tier with its summary, so the host can tell a tier that ran
# from one that never finished.
{
	echo "kernel $(uname -r): portwarden check"
	"$PW_BIN" check 2>&1 | sed 's/^/  /'
	for tier in $TIERS; do
		start=$SECONDS
		tests/run-system.sh "$O" "$tier" "$@" 2>&1 | sed "s/^system: /tier $tier: /"
		echo "tier $tier done in $((SECONDS - start)) s"
	done
} | sed -u "s/^/$k: /"
