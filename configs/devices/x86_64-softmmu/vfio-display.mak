# Devices of the vfio-display build of qemu-system-x86_64: a Q35 machine,
# PCIe root ports to plug into, and vfio-pci.  Q35 selects FW_CFG_DMA, which
# builds ramfb (vfio-pci-nohotplug,ramfb=on).  Used through
# --without-default-devices --with-devices-x86_64=vfio-display.

CONFIG_Q35=y
CONFIG_PCIE_PORT=y
CONFIG_VFIO_PCI=y
