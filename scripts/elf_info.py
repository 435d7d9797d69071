"""A minimal ELF reader (Python standard library only) for the packaging checks.

Reads what scripts/check-elf-alignment.py and scripts/split-debug-symbols.py need: the
machine, the alignment of every `PT_LOAD` segment, the section names and the GNU build ID.
ELF32 and ELF64, either byte order. Raises `ElfError` on anything malformed instead of
guessing.
"""
import struct

PT_LOAD = 1
PN_XNUM = 0xFFFF
SHN_XINDEX = 0xFFFF
NT_GNU_BUILD_ID = 3
MACHINES = {3: "x86", 40: "arm", 62: "x86_64", 183: "aarch64", 243: "riscv"}


class ElfError(Exception):
    """The bytes are not a well-formed ELF file."""


class Elf:
    """One parsed ELF file: `machine`, `bits`, `load_alignments`, `sections()`, `build_id()`."""

    def __init__(self, data: bytes):
        if len(data) < 16 or data[:4] != b"\x7fELF":
            raise ElfError("not an ELF file")
        elf_class, byte_order = data[4], data[5]
        if elf_class not in (1, 2):
            raise ElfError(f"unknown ELF class {elf_class}")
        if byte_order not in (1, 2):
            raise ElfError(f"unknown ELF byte order {byte_order}")
        self.bits = 32 if elf_class == 1 else 64
        self._data = data
        self._end = "<" if byte_order == 1 else ">"
        # e_type e_machine e_version e_entry e_phoff e_shoff e_flags e_ehsize e_phentsize e_phnum
        # e_shentsize e_shnum e_shstrndx
        word = "Q" if self.bits == 64 else "I"
        header = self._unpack(f"HHI{word}{word}{word}IHHHHHH", 16)
        (_, machine, _, _, phoff, shoff, _, _, phentsize, phnum, shentsize, shnum, shstrndx) = header
        self.machine = MACHINES.get(machine, f"machine {machine}")
        self._shoff, self._shentsize = shoff, shentsize
        # Counts that do not fit in 16 bits live in section header 0 (sh_size, sh_link, sh_info).
        if shoff and (phnum == PN_XNUM or shnum == 0 or shstrndx == SHN_XINDEX):
            _, _, _, _, _, size0, link0, info0 = self._section_header(0)
            phnum = info0 if phnum == PN_XNUM else phnum
            shnum = size0 if shnum == 0 else shnum
            shstrndx = link0 if shstrndx == SHN_XINDEX else shstrndx
        self._shnum, self._shstrndx = shnum, shstrndx
        want = 56 if self.bits == 64 else 32
        if phnum and phentsize < want:
            raise ElfError(f"program header entries of {phentsize} bytes (expected {want})")
        self.load_alignments = []
        for index in range(phnum):
            offset = phoff + index * phentsize
            if self.bits == 64:
                p_type, _, _, _, _, _, _, p_align = self._unpack("IIQQQQQQ", offset)
            else:
                p_type, _, _, _, _, _, _, p_align = self._unpack("IIIIIIII", offset)
            if p_type == PT_LOAD:
                self.load_alignments.append(p_align)

    def sections(self):
        """Returns {name: (type, offset, size)} for every section with a name."""
        if not self._shoff or not self._shnum:
            return {}
        want = 64 if self.bits == 64 else 40
        if self._shentsize < want:
            raise ElfError(f"section header entries of {self._shentsize} bytes (expected {want})")
        headers = [self._section_header(i) for i in range(self._shnum)]
        if self._shstrndx >= len(headers):
            raise ElfError(f"section name table index {self._shstrndx} out of range")
        _, _, _, _, names_offset, names_size, _, _ = headers[self._shstrndx]
        names = self._bytes(names_offset, names_size)
        found = {}
        for name_index, sh_type, _, _, offset, size, _, _ in headers:
            if name_index >= len(names):
                raise ElfError(f"section name offset {name_index} out of range")
            name = names[name_index:names.index(b"\0", name_index)].decode("ascii", "replace")
            if name:
                found[name] = (sh_type, offset, size)
        return found

    def build_id(self):
        """The GNU build ID (hex) from `.note.gnu.build-id`, or None."""
        note = self.sections().get(".note.gnu.build-id")
        if note is None or note[0] == 8:  # SHT_NOBITS: stripped to a placeholder
            return None
        _, offset, size = note
        end = offset + size
        while offset + 12 <= end:
            namesz, descsz, note_type = self._unpack("III", offset)
            name_end = offset + 12 + ((namesz + 3) & ~3)
            desc_end = name_end + ((descsz + 3) & ~3)
            name = self._bytes(offset + 12, namesz).rstrip(b"\0")
            if note_type == NT_GNU_BUILD_ID and name == b"GNU":
                return self._bytes(name_end, descsz).hex()
            offset = desc_end
        return None

    def _section_header(self, index: int):
        """(sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link, sh_info)."""
        fields = "IIQQQQII" if self.bits == 64 else "IIIIIIII"
        return self._unpack(fields, self._shoff + index * self._shentsize)

    def _bytes(self, offset: int, size: int) -> bytes:
        if offset < 0 or size < 0 or offset + size > len(self._data):
            raise ElfError(f"truncated: {size} bytes at offset {offset} are past the end")
        return self._data[offset:offset + size]

    def _unpack(self, fields: str, offset: int):
        layout = struct.Struct(self._end + fields)
        return layout.unpack(self._bytes(offset, layout.size))
