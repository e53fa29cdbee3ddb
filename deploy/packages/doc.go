// Package packages holds no code: it is the home of the Debian packages'
// nfpm configurations (numerek-server.yaml, numerek-kioskd.yaml; `make
// deb` builds them) and of their tests. The tests build the packages,
// read each .deb as dpkg does (architecture, dependencies, conffiles,
// files, the binaries' machine and version), run lintian on them, and
// install numerek-server with apt into a fresh Debian bookworm made by
// mmdebstrap: its user made, its unit enabled, queue-server running there
// as that user with the packaged configuration, answering /healthz; then
// reinstalled and purged, and numerek-kioskd's scripts run there too (its
// user in its groups, its units enabled).
package packages
