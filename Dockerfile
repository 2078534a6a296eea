# syntax=docker/dockerfile:1
#
# NHS procurement portal container image.
#
#   docker build -t nhs-procurement-portal .
#   docker run -p 8080:8080 -v portal-data:/data \
#     -e PORTAL_BASE_URL=https://portal.example.nhs.uk \
#     -e PORTAL_SESSION_KEY=... -e PORTAL_MASTER_KEY=... \
#     -e PORTAL_OIDC_PROVIDERS=... nhs-procurement-portal
#
# Configured only through the environment (PORTAL_*; see internal/config).
# The image defaults to PORTAL_ENV=production, which requires an https base
# URL, both keys and a real identity provider; for a local demo pass
# -e PORTAL_ENV=development instead. The SQLite database lives in /data
# (PORTAL_DATA_DIR) unless PORTAL_DATABASE_URL is a postgres:// URL.

# --- 1. front-end assets: nhsuk-frontend from npm into static/nhsuk --------
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error
# Same files as the Makefile's `assets` target.
RUN mkdir -p static/nhsuk \
 && cp node_modules/nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css \
       node_modules/nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.js static/nhsuk/ \
 && cp -R node_modules/nhsuk-frontend/dist/nhsuk/assets static/nhsuk/assets

# --- 2. Go build: static binary (pure-Go SQLite, no cgo) -------------------
FROM golang:1.26-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# static/ is embedded by //go:embed, so the assets must be present before building.
COPY --from=assets /src/static/nhsuk ./static/nhsuk
RUN go build -trimpath -ldflags='-s -w' -o /out/portal ./cmd/portal \
 && mkdir -p /out/data

# --- 3. runtime ------------------------------------------------------------
# distroless/static: no shell or package manager (small attack surface), but it
# has CA certificates, tzdata and /etc/passwd with the `nonroot` user (65532),
# which is all a CGO_ENABLED=0 binary needs. Use `portal` subcommands via
# `docker run IMAGE migrate` etc. rather than a shell.
FROM gcr.io/distroless/static-debian12:nonroot
WORKDIR /
COPY --from=build /out/portal /portal
# Owned by nonroot so a fresh named volume is writable by the portal.
COPY --from=build --chown=65532:65532 /out/data /data
ENV PORTAL_ENV=production \
    PORTAL_ADDR=:8080 \
    PORTAL_DATA_DIR=/data
# PORTAL_DATABASE_URL defaults to $PORTAL_DATA_DIR/portal.db, i.e. /data/portal.db.
VOLUME ["/data"]
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/portal"]
CMD ["serve"]
