# Dashboard targets (web/): include from the root Makefile with `include web/web.mk`.
#   web-build  npm ci + API types from web/openapi.json + type check + vite build (web/dist, embedded
#              by crates/server/src/http/web.rs). web/openapi.json is the committed copy of
#              /api/v1/openapi.json; `cargo test -p server --test openapi` fails when it is stale.
#   web-test   Vitest (formatting, class colours, bands, i18n completeness, export)
#   web-e2e    headless Chromium against `qingshui demo` (needs a built binary and web-build)

WEB_DIR := web
WEB_NODE_MODULES := $(WEB_DIR)/node_modules/.package-lock.json

.PHONY: web-build web-test web-e2e web-deps

# npm ci only when package-lock.json changed (node_modules/.package-lock.json is npm's own stamp).
$(WEB_NODE_MODULES): $(WEB_DIR)/package-lock.json $(WEB_DIR)/package.json
	cd $(WEB_DIR) && npm ci --no-audit --no-fund

web-deps: $(WEB_NODE_MODULES)

web-build: web-deps
	cd $(WEB_DIR) && npm run build && npm run size

web-test: web-deps
	cd $(WEB_DIR) && npm test

# Debian's chromium (never `npx playwright install`); CJK fonts so Chinese renders in screenshots.
web-e2e: web-deps
	@if [ ! -x /usr/bin/chromium ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-noto-cjk; \
	fi
	QINGSHUI_BIN=$${QINGSHUI_BIN:-$(CARGO_TARGET_DIR)/debug/qingshui} node $(WEB_DIR)/e2e/dashboard.spec.mjs
