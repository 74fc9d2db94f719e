# identity-links. The README's two commands: `make demo` and `make test`. Both install what is
# missing first (scripts/setup.sh), and are quick when everything is already there.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
PORT ?= 8080

.PHONY: demo test build setup setup-build setup-export lint test-worker test-export test-toolchains test-native test-wasm test-package test-clients test-auth test-hostile test-http-body test-cors-browser test-bench-smoke test-demo bench fuzz clean

## demo: build the package and serve the demo page on http://localhost:$(PORT)
demo: build
	node scripts/serve-demo.mjs --port $(PORT)

## test: every test (native, wasm in Node and Chromium, the package in every runtime, the demo page)
test: setup build lint test-native test-wasm test-package test-clients test-auth test-hostile test-http-body test-cors-browser test-bench-smoke test-demo test-export test-toolchains test-worker

## build: the npm package in pkg/
build: setup-build
	scripts/build.sh

setup:
	scripts/setup.sh test

setup-build:
	scripts/setup.sh build

setup-export:
	scripts/setup.sh export

## lint: formatting, clippy for host and wasm32, and the core's independence from wasm
lint:
	cargo fmt --all --check
	cargo clippy --quiet --workspace --all-targets --features identity-links/fuzzing -- -D warnings
	cargo clippy --quiet --workspace --exclude identity-links-export --lib --target wasm32-unknown-unknown -- -D warnings
	@if grep -rlE 'wasm_bindgen|js_sys' src crates --include='*.rs' | grep -v '^src/wasm/'; then \
	  echo "lint: the core must not use wasm_bindgen or js_sys (only src/wasm/ may)"; exit 1; fi

# The library (with its fuzzing entry points, for the corpus replay) and its crates (tables, text).
test-native:
	cargo test --features identity-links/fuzzing

## test-toolchains: the packed package through TypeScript 5, 6 and 7 (every resolution mode), attw,
## webpack, Vite, Rollup, esbuild, Bun, Jest with jsdom, Next.js and SvelteKit, pages in Chromium and Firefox
test-toolchains: build
	node --test tests/toolchains/run.mjs

## test-export: identity-links-export (tools/export) against a private PostgreSQL cluster (installed if missing);
## the pipeline end to end: --follow publishing through publish.mjs --sink into the worker's KV in workerd
test-export: setup-export build
	cargo test --quiet -p identity-links-export
	cargo build --quiet --profile native -p identity-links-export
	node --test tests/export/export-test.mjs
	node --test tests/export/follow-test.mjs
	node --test tests/export/pipeline-test.mjs

test-wasm:
	wasm-pack test --node
	wasm-pack test --headless --chrome
	wasm-pack test --headless --firefox

test-package:
	node --test tests/js/run-package-tests.mjs tests/js/memory-test.mjs

## test-worker: examples/worker in workerd with a fake KV on 127.0.0.1: the base in chunks, a cold
## burst, an absent, damaged or stalled base, re-bases' memory, authentication by default; deltas
## applied in place, a damaged one or a gap re-based, memory over 20 applies, publish.mjs --sink;
## and (in Node, the runtime's cut made there) a refresh cut off given up and begun again
test-worker: build
	node --test tests/js/worker-test.mjs tests/js/worker-cut-test.mjs

test-clients:
	node --test tests/js/clients-test.mjs

## bench: the benchmark against hand-written JavaScript (dense, S, M, L, edge), the exporter's
## rate from PostgreSQL (edge) and issue 24's end-to-end latency (PostgreSQL → --follow →
## publish.mjs → the worker in workerd), also at 1M links, and the worker's whole memory (wasm and
## JS heap) in workerd at 1M links; writes bench/RESULTS.md
bench: setup build
	cargo build --quiet --profile native -p identity-links-export
	node --max-old-space-size=8192 bench/export.mjs edge
	node bench/pipeline.mjs
	node --max-old-space-size=8192 bench/pipeline.mjs edge
	PIPELINE_WAL=1 node --max-old-space-size=8192 bench/pipeline.mjs edge
	node --max-old-space-size=8192 bench/run.mjs dense S M L edge
	node bench/worker-memory.mjs

## test-auth: the Zitadel token verifier (pkg/auth/zitadel-token.js) against a key set and an
## introspection endpoint on 127.0.0.1; the handler's auth; issue 23's matrix (every token case over
## REST, Connect JSON and binary, gRPC-web, and gRPC through the Node listener; Camunda's routes)
test-auth:
	node --test tests/js/auth-verifier-test.mjs tests/js/auth-handler-test.mjs tests/js/auth-matrix-test.mjs

test-hostile:
	node --expose-gc --test tests/js/hostile-test.mjs

test-http-body:
	node --expose-gc --test tests/js/http-body-test.mjs

test-cors-browser:
	node --test tests/js/cors-browser-test.mjs

## fuzz: each cargo-fuzz target for FUZZ_SECONDS (default 60), then minimizes the corpus
FUZZ_SECONDS ?= 60
fuzz:
	command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
	cd fuzz && for t in load_json load_binary query http apply_delta; do \
	  cargo +nightly fuzz run -O $$t corpus/$$t -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 || exit 1; \
	  cargo +nightly fuzz cmin -O $$t corpus/$$t; \
	done

## test-bench-smoke: the benchmarks' scripts run quickly (S, a few passes), so that they keep working
test-bench-smoke:
	node bench/run.mjs --smoke
	node bench/worker-memory.mjs target/bench/S.idl target/bench/S.forward.delta target/bench/S.back.delta 2

test-demo:
	node --test tests/js/demo-test.mjs

clean:
	rm -rf target pkg
