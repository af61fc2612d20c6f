# Entry points; each is a thin call into scripts/.
.PHONY: all build demo check
all: build
build:
	./scripts/build.sh
demo:
	./scripts/demo.sh $(DEMO)
check:
	./scripts/check.sh
