# pipechat in containers: three images from one file, all FROM the ordinary
# debian:bookworm (on a machine without a registry, scripts/container-base
# makes that image from Debian's mirror first).
#
#   build    compiles broker, API and worker with Debian's -dev packages (thrown away)
#   runtime  the shared libraries, spawn-fcgi, websocketd, lighttpd, the three
#            binaries, www/ and the lighttpd configuration; runs as the
#            unprivileged user pipechat (uid 10001). One image for the broker,
#            the API and the web node: the first argument picks the role
#            (deploy/container/pipechat-entrypoint).
#   db       PostgreSQL 15 from Debian's package, run as postgres (uid 999),
#            with the migrations of sql/ applied at each start
#            (deploy/container/db-entrypoint).
# compose.yaml builds and wires them; docs/containers.md tells how to use them.
# Not for: development builds (scripts/run) or sanitizer builds (scripts/test).

FROM debian:bookworm AS build
RUN apt-get update \
	&& DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		build-essential cmake pkg-config libfcgi-dev libpq-dev libjwt-dev \
		libcjson-dev libnng-dev libsodium-dev libseccomp-dev \
	&& rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY common common
COPY fcgi-api fcgi-api
COPY ws-worker ws-worker
COPY broker broker
RUN cmake -S . -B /build -DPIPECHAT_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null \
	&& cmake --build /build -j"$(nproc)" \
	&& install -D -s -m 0755 /build/broker/pipechat-broker /out/pipechat-broker \
	&& install -D -s -m 0755 /build/fcgi-api/pipechat-api /out/pipechat-api \
	&& install -D -s -m 0755 /build/ws-worker/pipechat-ws /out/pipechat-ws

FROM debian:bookworm AS runtime
# policy-rc.d: no package may try to start its service while it is installed.
# The folders below are the mount points of compose.yaml's volumes: a new
# named volume takes their owner and mode (Docker and podman copy them up).
RUN printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d \
	&& apt-get update \
	&& DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		libcjson1 libfcgi0ldbl libjwt0 libnng1 libpq5 libsodium23 libseccomp2 \
		spawn-fcgi websocketd lighttpd \
	&& rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
		/usr/sbin/policy-rc.d \
	&& groupadd --system --gid 10001 pipechat \
	&& useradd --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
		--shell /usr/sbin/nologin pipechat \
	&& install -d -o 10001 -g 10001 -m 0700 /run/pipechat/broker /run/pipechat/fcgi \
		/var/lib/pipechat/secret \
	&& install -d -o 999 -g 10001 -m 0750 /run/pipechat/db
COPY --from=build /out/ /usr/lib/pipechat/
COPY www /usr/share/pipechat/www
COPY deploy/lighttpd /etc/pipechat/lighttpd
COPY deploy/container/pipechat-entrypoint deploy/container/healthcheck scripts/lib/ws-sched /usr/lib/pipechat/
ENV LANG=C.UTF-8
USER pipechat
WORKDIR /
EXPOSE 8080
ENTRYPOINT ["/usr/lib/pipechat/pipechat-entrypoint"]
CMD ["web"]

FROM debian:bookworm AS db
# The uids and gids are fixed so that the socket folder (a volume shared with
# the broker and the API) has the same owners in every container: postgres
# 999 (a system uid, as postgresql-common's adduser wants), group pipechat 10001.
RUN printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d \
	&& mkdir -p /etc/postgresql-common \
	&& echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.conf \
	&& groupadd --system --gid 10001 pipechat \
	&& useradd --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
		--shell /usr/sbin/nologin pipechat \
	&& groupadd --system --gid 999 postgres \
	&& useradd --system --uid 999 --gid 999 --groups pipechat --home-dir /var/lib/postgresql \
		--no-create-home --shell /bin/bash postgres \
	&& apt-get update \
	&& DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 \
	&& rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
		/usr/sbin/policy-rc.d \
	&& install -d -o 999 -g 999 -m 0700 /var/lib/postgresql/data \
	&& install -d -o 999 -g 10001 -m 0750 /run/pipechat/db
COPY sql /opt/pipechat/sql
COPY scripts/lib/common.sh scripts/lib/migrate.sh /opt/pipechat/scripts/lib/
COPY deploy/container/db-entrypoint deploy/container/healthcheck /opt/pipechat/bin/
ENV LANG=C.UTF-8 PGDATA=/var/lib/postgresql/data/15 PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
USER postgres
WORKDIR /var/lib/postgresql
# SIGINT: PostgreSQL's fast shutdown (sessions cut, everything committed kept).
STOPSIGNAL SIGINT
ENTRYPOINT ["/opt/pipechat/bin/db-entrypoint"]
