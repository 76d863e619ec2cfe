// Turns off transmit checksum offload on veth devices whose packets enter an OVS userspace
// datapath.
//
// Why: a veth passes locally sent TCP and UDP packets on with CHECKSUM_PARTIAL, meaning
// "checksum not filled in yet". ovs-vswitchd 3.1 reads such a packet from its AF_PACKET
// socket without filling it in and forwards it, so the receiving kernel counts
// TcpInCsumErrors and drops it. With transmit checksumming off (which also turns off TSO),
// the sending kernel writes full checksums. ICMP is checksummed in software and works
// either way.
//
// How: the SIOCETHTOOL ioctl with ETHTOOL_STXCSUM (linux/ethtool.h), the same request
// `ethtool -K DEV tx off` sends. The ioctl needs a pointer inside struct ifreq, which Node.js
// cannot build. ethtool is not installed in CI, so a short python3 program sends the ioctl.
// Debian's openvswitch-switch package depends on python3, so python3 is present wherever OVS is.
import { run } from "./run.ts";

const ioctlProgram = `
import ctypes, fcntl, socket, struct, sys
SIOCETHTOOL = 0x8946
ETHTOOL_STXCSUM = 0x17
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    for device in sys.argv[1:]:
        value = ctypes.create_string_buffer(struct.pack("II", ETHTOOL_STXCSUM, 0))
        request = struct.pack("16sP16x", device.encode(), ctypes.addressof(value))
        fcntl.ioctl(sock.fileno(), SIOCETHTOOL, request)
`;

/** Turns off transmit checksum offload on `devices` in `netns`. Idempotent. */
export async function disableTxChecksumOffload(options: { netns: string; devices: readonly string[] }): Promise<void> {
  if (options.devices.length === 0) return;
  await run(["python3", "-c", ioctlProgram, ...options.devices], { netns: options.netns });
}
