import type { DriverInfo } from '../driver.js';

/** What `create` shows and accepts for the virtualbox driver, without loading the driver. */
export const virtualboxInfo: DriverInfo = {
  name: 'virtualbox',
  description: 'a VirtualBox 7.0 VM, through vboxwebsrv',
  flags: [
    { name: 'virtualbox-webservice-url', type: 'string', usage: 'URL of the VirtualBox web service (vboxwebsrv)', envVar: 'VIRTUALBOX_WEBSERVICE_URL', default: 'http://127.0.0.1:18083/' },
    { name: 'virtualbox-webservice-user', type: 'string', usage: 'user the web service logs on (none when its auth library is null)', envVar: 'VIRTUALBOX_WEBSERVICE_USER', default: '' },
    { name: 'virtualbox-webservice-password', type: 'string', usage: 'password of that user', envVar: 'VIRTUALBOX_WEBSERVICE_PASSWORD', default: '' },
    { name: 'virtualbox-cpu-count', type: 'int', usage: 'number of CPUs of the VM', envVar: 'VIRTUALBOX_CPU_COUNT', default: 1 },
    { name: 'virtualbox-memory', type: 'int', usage: 'memory of the VM in MB', envVar: 'VIRTUALBOX_MEMORY_SIZE', default: 1024 },
    { name: 'virtualbox-disk-size', type: 'int', usage: 'disk size of the VM in MB', envVar: 'VIRTUALBOX_DISK_SIZE', default: 20000 },
    { name: 'virtualbox-hostonly-cidr', type: 'string', usage: 'host address and prefix of the host-only network', envVar: 'VIRTUALBOX_HOSTONLY_CIDR', default: '192.168.99.1/24' },
    { name: 'virtualbox-hostonly-nictype', type: 'string', usage: 'NIC type of the host-only NIC (Am79C970A, Am79C973, 82540EM, 82543GC, 82545EM, virtio)', envVar: 'VIRTUALBOX_HOSTONLY_NIC_TYPE', default: '82540EM' },
    { name: 'virtualbox-nat-nictype', type: 'string', usage: 'NIC type of the NAT NIC (same choices)', envVar: 'VIRTUALBOX_NAT_NICTYPE', default: '82540EM' },
    { name: 'virtualbox-no-share', type: 'bool', usage: 'do not share a host folder with the VM', envVar: 'VIRTUALBOX_NO_SHARE', default: false },
    { name: 'virtualbox-share-folder', type: 'string', usage: 'host folder shared with the VM, as DIR:NAME (default /home:hosthome)', envVar: 'VIRTUALBOX_SHARE_FOLDER', default: '' },
    { name: 'virtualbox-no-vtx-check', type: 'bool', usage: 'create the VM even when the host has no VT-x/AMD-v', envVar: 'VIRTUALBOX_NO_VTX_CHECK', default: false },
    { name: 'virtualbox-ui-type', type: 'string', usage: 'how the VM is started: headless, gui, sdl or separate', envVar: 'VIRTUALBOX_UI_TYPE', default: 'headless' },
    { name: 'virtualbox-image', type: 'string', usage: 'boot media, PATH or URL: an ISO or a VDI/VMDK/raw/qcow2 disk (default: the image `berth machine image build` makes)', envVar: 'VIRTUALBOX_IMAGE', default: '' },
  ],
};
