# Herald's build, test and lint entry points. Run `make` to list them.
#
# Targets carry a `## description` after their name; `make help` prints them.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

MODULE  := github.com/heraldhq/herald
BIN_DIR := bin
CMDS    := ./cmd/herald ./cmd/api ./cmd/worker

# The version baked into binaries; override with `make build VERSION=v1.2.3`.
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X $(MODULE)/internal/version.Version=$(VERSION)

# Linters and formatters are pinned here, not in go.mod.
GOLANGCI_LINT := go run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
GOFUMPT       := go run mvdan.cc/gofumpt@v0.12.0

COVER_PROFILE := coverage.out
COVER_MIN     := 80

# Files that `make generate` writes (a git pathspec: `*` also matches `/`).
GENERATED := '*.gen.go'
# The header that marks a Go file as generated (https://go.dev/s/generatedcode).
GENERATED_HEADER := ^// Code generated .* DO NOT EDIT\.$$

.PHONY: help run build test bench bench-go cover-check lint fmt generate check-generated tidy-check clean

help: ## Show the targets and what they do.
	@awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z0-9_-]+:.*## / { printf "  %-16s %s\n", $$1, $$2 }' \
		$(MAKEFILE_LIST)

run: ## Run the API and worker in one process (herald serve) from source.
	go run ./cmd/herald serve

build: ## Build herald, api and worker into ./bin, stamped with the git version.
	@mkdir -p $(BIN_DIR)
	go build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN_DIR)/ $(CMDS)

# Tests skip PostgreSQL when HERALD_TEST_DATABASE_URL is unset: default it to
# the local server. Exported for `test` only, since herald itself rejects
# HERALD_* variables it does not know. A hung test fails after 5 minutes, not
# go test's default 10.
test: export HERALD_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
# One package at a time (-p 1): the end-to-end tests run whole Herald
# processes with bounded waits, and under the race detector two packages at
# once leave them too little of a 2-core machine.
test: ## Run all tests with the race detector; write coverage.out for internal/.
	go test -p 1 -race -timeout=5m -coverpkg=./internal/... -coverprofile=$(COVER_PROFILE) ./...
	@go tool cover -func=$(COVER_PROFILE) | tail -n 1

# The end-to-end benchmark runs on a database of its own, made afresh.
BENCH_PG    ?= postgres://postgres@127.0.0.1:5432
BENCH_DB    ?= herald_bench
BENCH_FLAGS ?= -scenario all

bench: build ## Run the end-to-end benchmark (cmd/herald-bench) on PostgreSQL and SQLite; see docs/benchmarks.md.
	psql "$(BENCH_PG)/postgres" -q -c 'DROP DATABASE IF EXISTS $(BENCH_DB)' -c 'CREATE DATABASE $(BENCH_DB)'
	@mkdir -p bench-results
	go run ./cmd/herald-bench -herald $(BIN_DIR)/herald \
		-database '$(BENCH_PG)/$(BENCH_DB)?sslmode=disable' $(BENCH_FLAGS) -json bench-results/bench.json

bench-go: export HERALD_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
bench-go: ## Run the in-process Go delivery benchmark (BenchmarkDeliver) on SQLite and PostgreSQL.
	go test -run '^$$' -bench . -benchtime 2000x -count 3 ./internal/cli/

# A block can appear once per test binary in the profile: count it once, as
# covered if any test binary ran it.
cover-check: ## Fail if statement coverage of internal/ in coverage.out is under 80%.
	@test -f $(COVER_PROFILE) || { echo "cover-check: $(COVER_PROFILE) is missing; run 'make test' first" >&2; exit 1; }
	@awk -v min=$(COVER_MIN) ' \
		NR > 1 && $$1 ~ "^$(MODULE)/internal/" { stmts[$$1] = $$2; if ($$3 > 0) hit[$$1] = 1 } \
		END { \
			for (b in stmts) { total += stmts[b]; if (b in hit) covered += stmts[b] } \
			pct = total ? 100 * covered / total : 0; \
			printf "cover-check: internal/ coverage %.1f%% of %d statements (minimum %d%%)\n", pct, total, min; \
			if (pct < min) { print "cover-check: coverage is below the minimum" > "/dev/stderr"; exit 1 } \
		}' $(COVER_PROFILE)

# Several checkouts on one machine share golangci-lint's lock: wait, don't fail.
lint: ## Run golangci-lint (linters and formatters in .golangci.yml).
	$(GOLANGCI_LINT) run --allow-serial-runners ./...

fmt: ## Format hand-written Go files with gofumpt, then group imports as lint wants.
	@files="$$(find . -name '*.go' -not -path './.git/*' -print0 \
		| xargs -0 -r grep -L -e '$(GENERATED_HEADER)')"; \
	if [ -n "$$files" ]; then $(GOFUMPT) -l -w $$files; fi
	$(GOLANGCI_LINT) fmt ./...

generate: ## Regenerate code from api/openapi.yaml (go generate ./...).
	go generate ./...

check-generated: generate ## Fail if the committed generated code is stale.
	@changes="$$(git status --porcelain -- $(GENERATED))"; \
	if [ -n "$$changes" ]; then \
		echo "check-generated: generated code is stale or missing from git:" >&2; \
		echo "$$changes" >&2; \
		echo "check-generated: run 'make generate' and commit the result." >&2; \
		exit 1; \
	fi
	@echo "check-generated: generated code is up to date"

tidy-check: ## Fail if go.mod or go.sum need `go mod tidy`.
	go mod tidy -diff

clean: ## Remove build and coverage outputs.
	rm -rf $(BIN_DIR) $(COVER_PROFILE)
