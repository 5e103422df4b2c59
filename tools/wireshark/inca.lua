-- Wireshark/tshark dissector for the inca v1 wire header (docs/protocol.md).
--
-- Use:  tshark -X lua_script:tools/wireshark/inca.lua -r capture.pcap -V
-- or copy into the personal Lua plugins folder (tshark -G folders).
-- The UDP port defaults to 4792 and can be changed under
-- Preferences > Protocols > INCA (or -o inca.udp_port:NNNN).

local inca = Proto("inca", "inca in-network aggregation protocol")

local HEADER_BYTES = 32
local MAX_PAYLOAD_BYTES = 9000
local DEFAULT_PORT = 4792

local packet_types = {
  [1] = "contribution", [2] = "result", [3] = "p2p", [4] = "control", [5] = "error",
  [6] = "ack",
}

-- code -> {name, element size}; mirrors sdk/core/dtype.cpp.
local dtypes = {
  [1] = { "i8", 1 }, [2] = { "u8", 1 }, [3] = { "i16", 2 }, [4] = { "u16", 2 },
  [5] = { "i32", 4 }, [6] = { "u32", 4 }, [7] = { "i64", 8 }, [8] = { "u64", 8 },
  [9] = { "f16", 2 }, [10] = { "bf16", 2 }, [11] = { "f32", 4 }, [12] = { "f64", 8 },
}
local dtype_names = {}
for code, info in pairs(dtypes) do dtype_names[code] = info[1] end

local ops = {
  [1] = "sum", [2] = "prod", [3] = "min", [4] = "max", [5] = "band",
  [6] = "bor", [7] = "bxor", [8] = "land", [9] = "lor", [10] = "lxor",
}

-- inca::StatusCode, carried in `sequence` by error packets.
local status_codes = {
  [0] = "ok", [1] = "invalid_argument", [2] = "not_supported", [3] = "no_resource",
  [4] = "quota_exceeded", [5] = "no_tree", [6] = "lock_failed", [7] = "timeout",
  [8] = "malformed_packet", [9] = "mismatch", [10] = "config_error", [11] = "io_error",
  [12] = "internal",
}

local f = inca.fields
f.version = ProtoField.uint8("inca.version", "Version", base.DEC)
f.type = ProtoField.uint8("inca.type", "Type", base.DEC, packet_types)
f.flags = ProtoField.uint8("inca.flags", "Flags", base.HEX)
f.flag_last = ProtoField.bool("inca.flags.last", "Last", 8, nil, 0x01)
f.flag_repro = ProtoField.bool("inca.flags.reproducible", "Reproducible", 8, nil, 0x02)
f.flag_identity = ProtoField.bool("inca.flags.identity", "Identity (header only)", 8, nil, 0x04)
f.flag_header_only = ProtoField.bool("inca.flags.header_only", "Header only (result withheld)", 8, nil, 0x08)
f.flag_reserved = ProtoField.uint8("inca.flags.reserved", "Reserved", base.HEX, nil, 0xf0)
f.dtype = ProtoField.uint8("inca.dtype", "Dtype", base.DEC, dtype_names)
f.op = ProtoField.uint8("inca.op", "Op", base.DEC, ops)
f.attempt_tag = ProtoField.uint8("inca.attempt_tag", "Attempt tag", base.DEC)
f.child = ProtoField.uint16("inca.child", "Child", base.DEC)
f.job = ProtoField.uint32("inca.job", "Job", base.DEC)
f.key_tag = ProtoField.uint32("inca.key_tag", "Key tag", base.HEX)
f.tree = ProtoField.uint16("inca.tree", "Tree", base.DEC)
f.slot_field = ProtoField.uint16("inca.slot_field", "Slot field", base.HEX)
f.shadow = ProtoField.bool("inca.shadow", "Shadow set", 16, nil, 0x8000)
f.slot = ProtoField.uint16("inca.slot", "Slot", base.DEC, nil, 0x7fff)
f.sequence = ProtoField.uint32("inca.sequence", "Sequence", base.DEC)
f.status = ProtoField.uint32("inca.status", "Status", base.DEC, status_codes)
f.count = ProtoField.uint32("inca.count", "Count", base.DEC)
f.payload_len = ProtoField.uint32("inca.payload_len", "Payload length", base.DEC)
f.checksum = ProtoField.uint32("inca.checksum", "Checksum", base.HEX)
f.checksum_calc = ProtoField.uint32("inca.checksum.calculated", "Calculated checksum", base.HEX)
f.checksum_good = ProtoField.bool("inca.checksum.good", "Checksum good")
f.payload = ProtoField.bytes("inca.payload", "Payload")

local ef = {
  malformed = ProtoExpert.new("inca.malformed", "Malformed inca packet",
                              expert.group.MALFORMED, expert.severity.ERROR),
  bad_checksum = ProtoExpert.new("inca.bad_checksum", "Bad inca checksum",
                                 expert.group.CHECKSUM, expert.severity.ERROR),
}
inca.experts = { ef.malformed, ef.bad_checksum }

inca.prefs.udp_port = Pref.uint("UDP port", DEFAULT_PORT, "UDP port that carries inca packets")
inca.prefs.verify_checksum = Pref.bool("Verify checksum", true,
                                       "Recompute the CRC-32 of header and payload")

-- CRC-32 (IEEE 802.3, zlib's polynomial); Wireshark's Lua API has none.
local crc_table = {}
for i = 0, 255 do
  local c = i
  for _ = 1, 8 do
    if bit32.band(c, 1) ~= 0 then
      c = bit32.bxor(0xEDB88320, bit32.rshift(c, 1))
    else
      c = bit32.rshift(c, 1)
    end
  end
  crc_table[i] = c
end

local function crc32_update(crc, bytes)
  for i = 0, bytes:len() - 1 do
    crc = bit32.bxor(crc_table[bit32.band(bit32.bxor(crc, bytes:get_index(i)), 0xff)],
                     bit32.rshift(crc, 8))
  end
  return crc
end

local function packet_checksum(tvb, payload_len)
  local head = tvb:bytes(0, HEADER_BYTES)
  for i = 28, 31 do head:set_index(i, 0) end
  local crc = crc32_update(0xffffffff, head)
  if payload_len > 0 then crc = crc32_update(crc, tvb:bytes(HEADER_BYTES, payload_len)) end
  return bit32.bxor(crc, 0xffffffff)
end

function inca.dissector(tvb, pinfo, tree)
  local len = tvb:len()
  pinfo.cols.protocol = "INCA"
  local subtree = tree:add(inca, tvb(), "inca")
  if len < HEADER_BYTES then
    subtree:add_proto_expert_info(ef.malformed, "truncated: " .. len .. " bytes < 32")
    pinfo.cols.info = "inca truncated"
    return len
  end

  local type_code = tvb(1, 1):uint()
  local flags = tvb(2, 1):uint()
  local dtype_code = tvb(3, 1):uint()
  local op_code = tvb(4, 1):uint()
  local slot_raw = tvb(18, 2):uint()
  local sequence = tvb(20, 4):uint()
  local count = tvb(24, 4):uint()
  local type_name = packet_types[type_code] or ("type " .. type_code)
  subtree:append_text(", " .. type_name)

  local version_item = subtree:add(f.version, tvb(0, 1))
  if tvb(0, 1):uint() ~= 1 then
    version_item:add_proto_expert_info(ef.malformed, "bad_version")
  end
  local type_item = subtree:add(f.type, tvb(1, 1))
  if not packet_types[type_code] then type_item:add_proto_expert_info(ef.malformed, "bad_type") end

  local flags_item = subtree:add(f.flags, tvb(2, 1))
  flags_item:add(f.flag_last, tvb(2, 1))
  flags_item:add(f.flag_repro, tvb(2, 1))
  flags_item:add(f.flag_identity, tvb(2, 1))
  flags_item:add(f.flag_header_only, tvb(2, 1))
  flags_item:add(f.flag_reserved, tvb(2, 1))
  local identity = bit32.band(flags, 0x04) ~= 0
  local header_only = bit32.band(flags, 0x08) ~= 0
  if bit32.band(flags, 0xf0) ~= 0 or
      ((identity or header_only) and type_code ~= 1 and type_code ~= 2) then
    flags_item:add_proto_expert_info(ef.malformed, "bad_flags")
  end

  local dtype_item = subtree:add(f.dtype, tvb(3, 1))
  if not dtypes[dtype_code] then dtype_item:add_proto_expert_info(ef.malformed, "bad_dtype") end
  local op_item = subtree:add(f.op, tvb(4, 1))
  if not ops[op_code] then op_item:add_proto_expert_info(ef.malformed, "bad_op") end
  subtree:add(f.attempt_tag, tvb(5, 1))
  subtree:add(f.child, tvb(6, 2))
  subtree:add(f.job, tvb(8, 4))
  subtree:add(f.key_tag, tvb(12, 4))
  subtree:add(f.tree, tvb(16, 2))
  local slot_item = subtree:add(f.slot_field, tvb(18, 2))
  slot_item:add(f.shadow, tvb(18, 2))
  slot_item:add(f.slot, tvb(18, 2))
  if type_code == 5 then
    subtree:add(f.status, tvb(20, 4))
  else
    subtree:add(f.sequence, tvb(20, 4))
  end
  subtree:add(f.count, tvb(24, 4))

  -- Element types size the payload by dtype; every other type counts bytes.
  local payload_len = count
  local element = type_code == 1 or type_code == 2
  if element then
    local bitwise = op_code == 5 or op_code == 6 or op_code == 7
    local floating = dtype_code >= 9 and dtype_code <= 12
    if bitwise and floating then op_item:add_proto_expert_info(ef.malformed, "bad_pair") end
    payload_len = count * (dtypes[dtype_code] and dtypes[dtype_code][2] or 0)
  end
  -- An identity chunk stands for payload_len bytes and carries none.
  local chunk_len = payload_len
  if (identity and element) or (header_only and type_code == 2) then payload_len = 0 end
  local len_item = subtree:add(f.payload_len, payload_len):set_generated()
  local available = len - HEADER_BYTES
  local length_ok = chunk_len <= MAX_PAYLOAD_BYTES and available == payload_len
  if chunk_len > MAX_PAYLOAD_BYTES then
    len_item:add_proto_expert_info(ef.malformed, "bad_count: above " .. MAX_PAYLOAD_BYTES)
  elseif available < payload_len then
    len_item:add_proto_expert_info(ef.malformed, "truncated: " .. available .. " bytes follow")
  elseif available > payload_len then
    len_item:add_proto_expert_info(ef.malformed, "bad_count: " .. available .. " bytes follow")
  end

  local cks_item = subtree:add(f.checksum, tvb(28, 4))
  if length_ok and inca.prefs.verify_checksum then
    local calc = packet_checksum(tvb, payload_len)
    local good = calc == tvb(28, 4):uint()
    cks_item:add(f.checksum_calc, calc):set_generated()
    cks_item:add(f.checksum_good, good):set_generated()
    if not good then cks_item:add_proto_expert_info(ef.bad_checksum, "bad_checksum") end
  end

  if available > 0 then subtree:add(f.payload, tvb(HEADER_BYTES, available)) end

  local seq_text = "seq=" .. sequence
  if type_code == 5 then seq_text = "status=" .. (status_codes[sequence] or sequence) end
  local info = string.format("%s job=%u tree=%u slot=%u%s %s count=%u", type_name,
                             tvb(8, 4):uint(), tvb(16, 2):uint(), bit32.band(slot_raw, 0x7fff),
                             bit32.band(slot_raw, 0x8000) ~= 0 and "S" or "", seq_text, count)
  if element then
    info = info .. " " .. (dtype_names[dtype_code] or "?") .. "/" .. (ops[op_code] or "?")
  end
  if bit32.band(flags, 0x01) ~= 0 then info = info .. " [last]" end
  if identity and element then info = info .. " [identity]" end
  if header_only and element then info = info .. " [header only]" end
  pinfo.cols.info = info
  return len
end

local udp_port_table = DissectorTable.get("udp.port")
local registered_port = DEFAULT_PORT
udp_port_table:add(registered_port, inca)

function inca.prefs_changed()
  if inca.prefs.udp_port ~= registered_port then
    udp_port_table:remove(registered_port, inca)
    registered_port = inca.prefs.udp_port
    udp_port_table:add(registered_port, inca)
  end
end
