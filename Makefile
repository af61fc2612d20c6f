# Entry points; each is a thin call into scripts/.
.PHONY: all build demo check check-kernel bench fuzz install deb
all: build
build:
	./scripts/build.sh
demo:
	./scripts/demo.sh $(DEMO)
check:
	./scripts/check.sh
check-kernel:
	./scripts/check-kernel.sh
# make bench [BENCH="bench.py's options"] [FEEL="feel.py's options" | FEEL=skip]
bench:
	FEEL="$(FEEL)" ./scripts/bench.sh $(BENCH)
# make fuzz SECONDS=N SEED=S [FUZZ="--asan --console vnc ..."]
SECONDS ?= 600
SEED ?= 1
fuzz:
	./scripts/fuzz.sh $(FUZZ) --seconds $(SECONDS) --seed $(SEED)
# make install [PREFIX=/usr/local] [DESTDIR=]: the built QEMU, relocatable
PREFIX ?= /usr/local
install: build
	./scripts/install.sh $(PREFIX) $(DESTDIR)
# make deb: build/qemu-system-x86-vfio-display_*.deb, under /opt/vfio-display
deb: build
	./scripts/deb.sh
