// Package release builds what vigil ships: static binaries for the
// gateways and desktops (Build, Targets), the vigil-agent Debian packages
// (Deb, from the nfpm configuration and the files in packaging/: systemd
// unit, default configuration, maintainer scripts) and their SHA256SUMS,
// and checks the agent's budgets (size, memory, start-up time, the ARMv6
// build on an ARM1176). Its commands live in tools/release/cmd: release,
// mkdeb and budgets (make release, make deb, make budgets).
//
// Only the release tooling imports this package and nfpm; the agent's
// binary links neither (TestAgentDoesNotLinkRelease).
package release
