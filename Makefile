# Entry points; each is a thin call into scripts/.
.PHONY: all build demo check check-kernel bench
all: build
build:
	./scripts/build.sh
demo:
	./scripts/demo.sh $(DEMO)
check:
	./scripts/check.sh
check-kernel:
	./scripts/check-kernel.sh
bench:
	./scripts/bench.sh $(BENCH)
