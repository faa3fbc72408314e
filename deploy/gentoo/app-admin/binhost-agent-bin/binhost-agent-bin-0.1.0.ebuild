# Copyright 2026 The binhost-agent authors
# Distributed under the terms of the GNU General Public License v2

EAPI=8

MY_P="binhost-agent-${PV}"
DESCRIPTION="Keeps a Gentoo slave up to date from a build master's binary packages (prebuilt JVM release)"
# The release tarball is made from a checkout with deploy/release.sh; there is no download site yet.
SRC_URI="${MY_P}.tar.gz"
S="${WORKDIR}/${MY_P}"

# The project has not chosen a licence yet. The bundled libraries (Quarkus, Vert.x, Jackson, Micrometer, jnr-posix,
# ...) are under Apache-2.0, EPL-2.0, MIT and BSD terms; quarkus-app/quarkus-app-dependencies.txt lists them.
LICENSE="all-rights-reserved Apache-2.0 EPL-2.0 MIT BSD"
SLOT="0"
KEYWORDS="~amd64"
RESTRICT="fetch mirror bindist strip"

# The launcher runs the newest JDK it finds (>= 17; with 25 it uses the AOT cache when the release has one).
# rsync pulls the master's configuration; util-linux gives setsid, setpriv, mount and umount; the NFS client
# (net-fs/nfs-utils) only when the master's PKGDIR is mounted over NFS.
RDEPEND="
	>=virtual/jre-17:*
	net-misc/rsync
	sys-apps/util-linux
"

pkg_nofetch() {
	einfo "Make ${A} in a checkout of binhost-agent:"
	einfo "  ./mvnw -B package -DskipTests && deploy/release.sh"
	einfo "and copy target/release/${A} into your DISTDIR (${PORTAGE_ACTUAL_DISTDIR:-/var/cache/distfiles})."
	einfo "A tarball built elsewhere than the one this Manifest was made for needs"
	einfo "  ebuild ${EBUILD} manifest"
}

src_install() {
	# cp -p keeps the jars' mtimes: the JDK 25 AOT cache (quarkus-app/app.aot) is only used with them
	dodir /usr/lib/binhost-agent
	cp -pR quarkus-app "${ED}/usr/lib/binhost-agent/" || die
	chmod -R u+rwX,go+rX,go-w "${ED}/usr/lib/binhost-agent" || die

	dobin deploy/bin/binhost-agent
	newinitd deploy/openrc/binhost-agent binhost-agent
	newconfd deploy/openrc/binhost-agent.confd binhost-agent
	insinto /usr/lib/systemd/system
	doins deploy/systemd/binhost-agent.service

	# under /etc, so CONFIG_PROTECT keeps the admin's edits across updates (._cfg0000_binhost-agent.properties)
	insinto /etc/binhost-agent
	insopts -m0640
	doins config/binhost-agent.properties
	insopts -m0644

	insinto /usr/share/binhost-agent/monitoring
	doins deploy/monitoring/*
	dodoc README.md

	keepdir /var/lib/binhost-agent /var/log/binhost-agent
	fperms 0750 /var/lib/binhost-agent /var/log/binhost-agent
}

pkg_postinst() {
	elog "Set binhost.master.host in ${EROOT}/etc/binhost-agent/binhost-agent.properties"
	elog "(every key is there, commented, with its default), check the slave with"
	elog "  binhost-agent check"
	elog "and start the agent:"
	elog "  rc-update add binhost-agent default && rc-service binhost-agent start   (OpenRC)"
	elog "  systemctl enable --now binhost-agent                                    (systemd)"
	elog "Alert rules and a dashboard for Prometheus/Grafana are in ${EROOT}/usr/share/binhost-agent/monitoring."
}
