# NHS procurement portal — developer and CI entry points.
#
#   make run     build the front-end assets and start the portal on :8080
#   make test    run every Go test (PostgreSQL too when PORTAL_TEST_DATABASE_URL is set)
#   make lint    gofmt, go vet, staticcheck and gosec (docs/gosec.md explains each suppression)
#   make build   produce bin/portal
#
# Only Go and Node.js/npm are needed; everything else is fetched on demand.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:
.DEFAULT_GOAL := build

GO          ?= go
NPM         ?= npm
BIN         := bin/portal
IMAGE       ?= nhs-procurement-portal
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOSEC       := github.com/securego/gosec/v2/cmd/gosec@v2.30.0

# Every .go file of ours (not node_modules, .git or generated folders).
GO_FILES := find . \( -path ./node_modules -o -path ./.git -o -path ./bin -o -path ./data \) -prune -o -name '*.go' -type f -print

GOTEST_FLAGS ?= -count=1 -p 2 -timeout 30m

# mailpit: a real SMTP server with an HTTP API, for the email tests.
MAILPIT_VERSION := v1.27.11
GOBIN_DIR := $(shell $(GO) env GOPATH)/bin
MAILPIT   := $(GOBIN_DIR)/mailpit
# versitygw: a real S3 server over a folder, for the S3 document store tests.
VERSITYGW_VERSION := v1.8.0
VERSITYGW := $(GOBIN_DIR)/versitygw
PKGS         ?= ./...

# nhsuk-frontend's compiled files, copied (not committed) into static/nhsuk/.
NHSUK_SRC := node_modules/nhsuk-frontend/dist/nhsuk
NHSUK_DST := static/nhsuk
# npm (ci|install) rewrites node_modules/.package-lock.json, so it marks an install.
NPM_STAMP    := node_modules/.package-lock.json
# Hidden names: //go:embed skips files and folders starting with "." .
ASSETS_STAMP := $(NHSUK_DST)/.stamp
ASSETS_TMP   := static/.nhsuk.tmp

.PHONY: assets build run test lint fmt bench docker clean

## assets: install npm packages if needed and copy nhsuk-frontend into static/nhsuk
assets: $(ASSETS_STAMP)

$(NPM_STAMP): package.json package-lock.json
	$(NPM) ci --no-audit --no-fund --loglevel=error
	@touch $@

$(ASSETS_STAMP): $(NPM_STAMP)
	@rm -rf $(ASSETS_TMP)
	@mkdir -p $(ASSETS_TMP)
	cp $(NHSUK_SRC)/nhsuk-frontend.min.css $(NHSUK_SRC)/nhsuk-frontend.min.js $(ASSETS_TMP)/
	cp -R $(NHSUK_SRC)/assets $(ASSETS_TMP)/assets
	@touch $(ASSETS_TMP)/.stamp
	@rm -rf $(NHSUK_DST)
	@mv $(ASSETS_TMP) $(NHSUK_DST)

## build: compile the portal into bin/portal (static binary, no cgo)
build: assets
	@mkdir -p $(dir $(BIN))
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/portal

## run: start the portal locally (it migrates and loads demo data on first start)
run: assets
	@mkdir -p data
	$(GO) run ./cmd/portal serve

## test: run all Go tests
test: assets $(MAILPIT) $(VERSITYGW)
	PATH="$(GOBIN_DIR):$$PATH" $(GO) test $(GOTEST_FLAGS) $(PKGS)

$(MAILPIT):
	$(GO) install github.com/axllent/mailpit@$(MAILPIT_VERSION)

$(VERSITYGW):
	$(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

## lint: formatting, vet and staticcheck
lint: assets
	@unformatted="$$($(GO_FILES) | xargs -r gofmt -l)"; \
	if [ -n "$$unformatted" ]; then \
		echo "gofmt: these files need formatting (run 'make fmt'):"; echo "$$unformatted"; exit 1; \
	fi
	$(GO) vet $(PKGS)
	$(GO) run $(STATICCHECK) $(PKGS)
	$(GO) run $(GOSEC) -quiet -fmt=text -exclude-dir=node_modules ./...

## fmt: rewrite Go files with gofmt
fmt:
	$(GO_FILES) | xargs -r gofmt -w

## bench: run the Go benchmarks, among them storing a 1 GiB upload next to dd
## writing the same bytes to the same disk (several GiB written under $TMPDIR,
## a few minutes), and write the figures to docs/benchmarks.md
# The commands are written without quotes so they can be shown as they ran.
# -p 1: one package at a time, so no benchmark shares the machine with another.
BENCH_UPLOAD := $(GO) test -run=^$$ -bench=^BenchmarkUpload1GiB$$ -benchtime=5x -benchmem -timeout=30m ./internal/documents/
BENCH_OTHERS := $(GO) test -p 1 -run=^$$ -bench=. -skip=^BenchmarkUpload1GiB$$ -benchmem -timeout=30m $(PKGS)
bench: assets
	@out="$$(mktemp)"; trap 'rm -f "$$out"' EXIT; \
	echo '$(BENCH_UPLOAD)'; $(BENCH_UPLOAD) | tee "$$out"; \
	echo '$(BENCH_OTHERS)'; $(BENCH_OTHERS) | tee -a "$$out"; \
	$(GO) run ./cmd/benchreport -o docs/benchmarks.md \
		-command 'make bench' -command '# which ran:' -command '$(BENCH_UPLOAD)' -command '$(BENCH_OTHERS)' < "$$out"

## docker: build the container image
docker:
	docker build -t $(IMAGE) .

## clean: remove build outputs and generated assets (keeps node_modules and data/)
clean:
	rm -rf bin $(NHSUK_DST) $(ASSETS_TMP) coverage.out coverage.html
