#!/usr/bin/python3
"""An independent RoCEv2 reference for inca-switch (tests/roce_scapy_test.cpp).

Runs under Debian's /usr/bin/python3 with python3-scapy: the RoCEv2 frames are
built by scapy's RoCE layer (scapy.contrib.roce.BTH, whose post_build computes
the ICRC with scapy's compute_icrc), the inca header by the byte layout of
docs/protocol.md with zlib's CRC-32, and the results are checked with scapy
(ICRC recomputed, opcode, PSN sequence, RETH, immediate) and with tshark's
InfiniBand dissector.

    scapy_roce.py build SPEC DIR   writes DIR/in<i>.pcap, the frames host i sends
    scapy_roce.py check SPEC DIR   checks DIR/out<i>.pcap (what host i received)
                                   and DIR/switch.pcapng (the switch's capture)

SPEC is the JSON the test writes: the switch's address and port MACs, the
tree, the chunks, and per host its switch port, child index, addresses and,
for RoCEv2 hosts, both queue pairs and its result ring. The first RoCEv2 host
also sends three frames the switch must drop without aggregating them: a
corrupted ICRC, an unknown destination QP and a skipped PSN. Each carries a
value that would make its chunk's result inexact if it were aggregated.
"""
import json
import struct
import subprocess
import sys
import zlib

from scapy.all import ARP, IP, UDP, Ether, Raw, rdpcap, wrpcap
from scapy.contrib.roce import BTH

ROCE_PORT = 4791
UC_RDMA_WRITE_ONLY_IMM = 0x2B
PSN_MASK = 0xFFFFFF
# docs/protocol.md: version, type, flags, dtype, op, block exponent, child,
# job, key tag, tree, S + slot, sequence, count, checksum; big-endian.
INCA_HEADER = struct.Struct("!BBBBBbHIIHHIII")
CONTRIBUTION, RESULT = 1, 2
I16, SUM = 3, 1
POISON = 999  # what a dropped frame carries in every element


def value(child, chunk, element):
    return (child + 1) * 100 + chunk * 10 + element % 10


def inca_packet(kind, spec, child, chunk, values):
    tree = spec["tree"]
    window = tree["window"]
    slot = (chunk % window) | (0x8000 if (chunk // window) % 2 else 0)
    payload = struct.pack("<%dh" % len(values), *values)
    fields = [1, kind, 0, I16, SUM, 0, child, tree["job"], tree["key"], tree["tree"], slot,
              chunk, len(values)]
    crc = zlib.crc32(INCA_HEADER.pack(*fields, 0) + payload)
    return INCA_HEADER.pack(*fields, crc) + payload


def contribution(spec, host, chunk, poisoned=False):
    n = spec["tree"]["elements"]
    values = [POISON if poisoned else value(host["child"], chunk, e) for e in range(n)]
    return inca_packet(CONTRIBUTION, spec, host["child"], chunk, values)


def rkey(spec, chunk):
    window = spec["tree"]["window"]
    return (spec["tree"]["tree"] << 16) | (0x8000 if (chunk // window) % 2 else 0) | chunk % window


def roce_write(spec, host, chunk, psn, qpn=None, poisoned=False):
    """A UC RDMA WRITE_ONLY with immediate, as a ConnectX would send it."""
    inca = contribution(spec, host, chunk, poisoned)
    pad = (4 - len(inca) % 4) % 4
    reth = struct.pack("!QII", 0, rkey(spec, chunk), len(inca))
    imm = struct.pack("!I", chunk)
    sw = spec["switch"]
    return (Ether(src=host["mac"], dst=sw["port_macs"][host["port"]]) /
            IP(src=host["ip"], dst=sw["ip"], flags="DF", ttl=64, tos=(26 << 2) | 2) /
            UDP(sport=0xC000 + host["child"], dport=ROCE_PORT, chksum=0) /
            BTH(opcode=UC_RDMA_WRITE_ONLY_IMM, migreq=1, padcount=pad,
                dqpn=host["switch_qpn"] if qpn is None else qpn, psn=psn & PSN_MASK) /
            Raw(reth + imm + inca + b"\0" * pad))


def udp_datagram(spec, host, chunk):
    sw = spec["switch"]
    return (Ether(src=host["mac"], dst=sw["port_macs"][host["port"]]) /
            IP(src=host["ip"], dst=sw["ip"], flags="DF", ttl=64) /
            UDP(sport=host["udp_port"], dport=sw["udp_port"], chksum=0) /
            Raw(contribution(spec, host, chunk)))


def arp_request(spec, host):
    return (Ether(src=host["mac"], dst="ff:ff:ff:ff:ff:ff") /
            ARP(op=1, hwsrc=host["mac"], psrc=host["ip"], pdst=spec["switch"]["ip"]))


def corrupt_icrc(frame):
    raw = bytearray(bytes(frame))
    raw[-1] ^= 0x5A
    return Ether(bytes(raw))


def host_frames(spec, host, with_bad_frames):
    frames = [arp_request(spec, host)]
    chunks = spec["chunks"]
    if host["kind"] == "udp":
        return frames + [udp_datagram(spec, host, c) for c in range(chunks)]
    psn = host["psn"]
    for chunk in range(chunks):
        if with_bad_frames and chunk == 1:
            # Neither takes a PSN: the switch never accepts them as the QP's.
            frames.append(corrupt_icrc(roce_write(spec, host, chunk, psn, poisoned=True)))
            frames.append(roce_write(spec, host, chunk, psn, qpn=host["switch_qpn"] ^ 0x800,
                                     poisoned=True))
        if with_bad_frames and chunk == 2:
            # Skips a PSN: dropped, and the QP expects the one after it next.
            frames.append(roce_write(spec, host, chunk, psn + 1, poisoned=True))
            psn += 2
        frames.append(roce_write(spec, host, chunk, psn))
        psn += 1
    return frames


def build(spec, out_dir):
    first_roce = next(i for i, h in enumerate(spec["hosts"]) if h["kind"] == "roce")
    for i, host in enumerate(spec["hosts"]):
        wrpcap("%s/in%d.pcap" % (out_dir, i), host_frames(spec, host, i == first_roce))
    print("BUILD OK")


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def expected_sum(spec, chunk):
    n = spec["tree"]["elements"]
    children = [h["child"] for h in spec["hosts"]]
    return [sum(value(c, chunk, e) for c in children) for e in range(n)]


def check_inca_result(spec, data, chunk, where):
    head, payload = data[:INCA_HEADER.size], data[INCA_HEADER.size:]
    fields = list(INCA_HEADER.unpack(head))
    crc = fields[-1]
    check(zlib.crc32(INCA_HEADER.pack(*fields[:-1], 0) + payload) == crc,
          "%s: inca checksum wrong" % where)
    version, kind, _, dtype, op, _, _, job, key, tree, slot, seq, count = fields[:-1]
    t = spec["tree"]
    check((version, kind, dtype, op) == (1, RESULT, I16, SUM), "%s: header %s" % (where, fields))
    check((job, key, tree, seq, count) == (t["job"], t["key"], t["tree"], chunk, t["elements"]),
          "%s: job/key/tree/sequence/count %s" % (where, fields))
    check(slot == rkey(spec, chunk) & 0xFFFF, "%s: slot %#x" % (where, slot))
    got = list(struct.unpack("<%dh" % count, payload))
    check(got == expected_sum(spec, chunk), "%s: inexact result %s" % (where, got[:8]))


def check_icrc(frame, where):
    carried = frame[BTH].icrc
    again = Ether(bytes(frame))
    del again[BTH].icrc
    recomputed = Ether(again.build())[BTH].icrc
    check(recomputed == carried,
          "%s: ICRC %#010x, scapy computes %#010x" % (where, carried, recomputed))


def check_roce_host(spec, host, frames, where):
    results = [f for f in frames if BTH in f]
    check(len(results) == spec["chunks"],
          "%s: %d RoCEv2 results for %d chunks" % (where, len(results), spec["chunks"]))
    sw = spec["switch"]
    rows = []
    for k, f in enumerate(results):
        at = "%s result %d" % (where, k)
        check_icrc(f, at)
        bth = f[BTH]
        check(f[IP].src == sw["ip"] and f[IP].dst == host["ip"], at + ": addresses")
        check(f[Ether].dst == host["mac"], at + ": destination MAC")
        check(f[UDP].dport == ROCE_PORT, at + ": UDP port")
        check(bth.opcode == UC_RDMA_WRITE_ONLY_IMM, "%s: opcode %#x" % (at, bth.opcode))
        check(bth.dqpn == host["qpn"], "%s: destination QP %#x" % (at, bth.dqpn))
        want_psn = (host["switch_psn"] + k) & PSN_MASK
        check(bth.psn == want_psn, "%s: PSN %d, expected %d" % (at, bth.psn, want_psn))
        body = bytes(bth.payload)
        va, key, length = struct.unpack("!QII", body[:16])
        (imm,) = struct.unpack("!I", body[16:20])
        check(imm == k, "%s: immediate %d" % (at, imm))
        entry = host["ring_va"] + (k % host["ring_entries"]) * host["entry_bytes"]
        check((va, key) == (entry, host["ring_rkey"]), "%s: RETH %#x %#x" % (at, va, key))
        data = body[20:20 + length]
        check(len(body) - 20 - length == bth.padcount, at + ": pad")
        check_inca_result(spec, data, k, at)
        rows.append((bth.opcode, bth.dqpn, bth.psn, va, key, length, imm, carried_icrc(f)))
    return rows


def carried_icrc(frame):
    return frame[BTH].icrc


def check_udp_host(spec, host, frames, where):
    results = [f for f in frames if UDP in f and f[UDP].dport == host["udp_port"]]
    check(len(results) == spec["chunks"], "%s: %d UDP results" % (where, len(results)))
    for k, f in enumerate(results):
        check_inca_result(spec, bytes(f[UDP].payload), k, "%s result %d" % (where, k))


def check_arp(spec, host, frames, where):
    replies = [f for f in frames if ARP in f and f[ARP].op == 2]
    check(len(replies) == 1, "%s: %d ARP replies" % (where, len(replies)))
    r = replies[0][ARP]
    check(r.psrc == spec["switch"]["ip"] and r.hwsrc == spec["switch"]["port_macs"][host["port"]]
          and r.pdst == host["ip"], "%s: ARP reply %s" % (where, r.summary()))


def tshark_rows(pcap):
    fields = ["infiniband.bth.opcode", "infiniband.bth.destqp", "infiniband.bth.psn",
              "infiniband.reth.va", "infiniband.reth.r_key", "infiniband.reth.dmalen",
              "infiniband.immdt", "infiniband.invariant.crc"]
    cmd = ["tshark", "-r", pcap, "-Y", "infiniband", "-T", "fields"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def as_int(text):
    return int(text, 0) if text.startswith("0x") else int(text)


def check_tshark(rows, pcap, where):
    seen = tshark_rows(pcap)
    check(len(seen) == len(rows), "%s: tshark sees %d InfiniBand frames, scapy %d"
          % (where, len(seen), len(rows)))
    for k, (want, got) in enumerate(zip(rows, seen)):
        opcode, qpn, psn, va, key, length, imm, icrc = want
        # Wireshark 4.0 lists the immediate twice (the header item and its
        # value share the field name): "00000007,00000007".
        immediates = set(got[6].split(","))
        check(len(immediates) == 1, "%s: tshark row %d immediates %s" % (where, k, got[6]))
        parsed = (as_int(got[0]), as_int(got[1]), as_int(got[2]), as_int(got[3]), as_int(got[4]),
                  as_int(got[5]), int(immediates.pop(), 16), as_int(got[7]))
        check(parsed == (opcode, qpn, psn, va, key, length, imm, icrc),
              "%s: tshark row %d %s, scapy %s" % (where, k, got, want))


def check_capture(spec, pcap):
    """The switch's capture holds what it received (the bad frames too) and sent."""
    frames = rdpcap(pcap)
    sw_ip = spec["switch"]["ip"]
    received = [f for f in frames if BTH in f and f[IP].dst == sw_ip]
    sent = [f for f in frames if BTH in f and f[IP].src == sw_ip]
    roce_hosts = [h for h in spec["hosts"] if h["kind"] == "roce"]
    want_rx = len(roce_hosts) * spec["chunks"] + 3
    check(len(received) == want_rx, "capture: %d RoCEv2 frames received, %d sent by the hosts"
          % (len(received), want_rx))
    check(len(sent) == len(roce_hosts) * spec["chunks"], "capture: %d RoCEv2 frames sent"
          % len(sent))
    bad = 0
    for f in received:
        again = Ether(bytes(f))
        del again[BTH].icrc
        bad += Ether(again.build())[BTH].icrc != f[BTH].icrc
    check(bad == 1, "capture: %d received frames with a bad ICRC" % bad)


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("build", "check"):
        sys.exit(__doc__)
    with open(sys.argv[2]) as f:
        spec = json.load(f)
    out_dir = sys.argv[3]
    if sys.argv[1] == "build":
        build(spec, out_dir)
        return
    for i, host in enumerate(spec["hosts"]):
        where = "host %d (%s)" % (i, host["kind"])
        pcap = "%s/out%d.pcap" % (out_dir, i)
        frames = rdpcap(pcap)
        check_arp(spec, host, frames, where)
        if host["kind"] == "roce":
            check_tshark(check_roce_host(spec, host, frames, where), pcap, where)
        else:
            check_udp_host(spec, host, frames, where)
    check_capture(spec, "%s/switch.pcapng" % out_dir)
    print("CHECK OK")


if __name__ == "__main__":
    main()
