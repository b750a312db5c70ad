#!/usr/bin/env python3
"""Generate Include/cnnrt.h from the Swift sources.

Inputs:
  - the header swiftc emits for the runtime module (-emit-clang-header-path):
    the C declarations of every @c function, as the compiler sees them;
  - Sources/CNNRuntime/API/*.swift: order of the functions and their `///`
    doc comments (taken verbatim, so Markdown in them stays readable);
  - Sources/_CNNRuntimeShims/include/cnnrt_types.h: the public C types;
  - Sources/_CNNRuntimeShims/cnnrt_prologue.h.in: the header's opening text;
  - Version.swift / Context.swift: version numbers and arena alignment.

Usage: gen_header.py SWIFT_HEADER OUT            write OUT
       gen_header.py SWIFT_HEADER OUT --check    fail if OUT is stale
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
API_DIR = ROOT / "Sources/CNNRuntime/API"
API_FILES = ["Status.swift", "Version.swift", "ModelAPI.swift", "ContextAPI.swift"]
TYPES_H = ROOT / "Sources/_CNNRuntimeShims/include/cnnrt_types.h"
PROLOGUE = ROOT / "Sources/_CNNRuntimeShims/cnnrt_prologue.h.in"


def fail(msg):
    sys.stderr.write(f"gen_header: {msg}\n")
    sys.exit(1)


def swift_const(path, name):
    m = re.search(rf"\b{name}\s*(?::\s*\w+)?\s*=\s*(\d+)", path.read_text())
    if not m:
        fail(f"{name} not found in {path}")
    return int(m.group(1))


def screaming(camel):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", camel).upper()


def parse_swift_api():
    """Yield ('section', title) and ('func'|'enum', c_name, doc_lines) in source order."""
    items = []
    for fname in API_FILES:
        text = (API_DIR / fname).read_text().splitlines()
        doc = []
        for line in text:
            s = line.strip()
            if s.startswith("///"):
                doc.append(s[3:][1:] if s[3:].startswith(" ") else s[3:])
                continue
            m = re.match(r"@c\((\w+)\)\s+public\s+(func|enum)\b", s)
            if m:
                items.append((m.group(2), m.group(1), doc))
            if s.startswith("@c(") and not m:
                fail(f"unrecognised @c declaration in {fname}: {s}")
            if not s.startswith("@"):
                doc = []
    return items


def parse_swift_header(path):
    text = Path(path).read_text()
    funcs = {}
    for m in re.finditer(r"^SWIFT_EXTERN (.*?;)\s*$", text, re.M):
        decl = m.group(1)
        name = re.search(r"\b(cnn_\w+)\(", decl)
        if not name:
            continue
        for macro in ("SWIFT_ENUM_TAG ", " SWIFT_NOEXCEPT", " SWIFT_WARN_UNUSED_RESULT"):
            decl = decl.replace(macro, "")
        decl = re.sub(r"\s*_Nullable|\s*_Nonnull|\s*_Null_unspecified", "", decl)
        decl = re.sub(r"(\w+) const \*", r"const \1 *", decl)   # "char const *" -> "const char *"
        decl = re.sub(r"\* \*", "**", decl)
        decl = re.sub(r"(\w) (\*+) (\w)", r"\1 \2\3", decl)      # "int8_t * data" -> "int8_t *data"
        decl = re.sub(r"\bout_\b", "out", decl)
        funcs[name.group(1)] = decl
    enums = {}
    for m in re.finditer(r"typedef SWIFT_ENUM(?:_NAMED)?\((\w+), (\w+)(?:, \"\w+\")?, closed\) \{\n(.*?)\n\};", text, re.S):
        ctype, cname, body = m.groups()
        cases = []
        for line in body.splitlines():
            cm = re.match(r"\s*" + cname + r"(\w+) = (-?\d+),", line)
            if cm:
                cases.append((cm.group(1), int(cm.group(2))))
        enums[cname] = cases
    return funcs, enums


def case_docs(enum_name):
    """Doc comment of each case of the Swift @c enum `enum_name`, by Swift case name."""
    docs = {}
    for fname in API_FILES:
        text = (API_DIR / fname).read_text()
        m = re.search(r"@c\(" + enum_name + r"\) public enum \w+[^{]*\{(.*?)\n\}", text, re.S)
        if not m:
            continue
        doc = []
        for line in m.group(1).splitlines():
            s = line.strip()
            if s.startswith("///"):
                doc.append(s[3:].strip())
            cm = re.match(r"case (\w+) = (-?\d+)", s)
            if cm:
                docs[cm.group(1)] = " ".join(doc)
                doc = []
    return docs


def comment(lines, indent=""):
    if not lines:
        return ""
    out = [indent + "/**"]
    for l in lines:
        out.append((indent + " * " + l).rstrip())
    out.append(indent + " */")
    return "\n".join(out) + "\n"


def generate(swift_header):
    funcs, enums = parse_swift_header(swift_header)
    items = parse_swift_api()
    major = swift_const(API_DIR / "Version.swift", "cnnVersionMajor")
    minor = swift_const(API_DIR / "Version.swift", "cnnVersionMinor")
    patch = swift_const(API_DIR / "Version.swift", "cnnVersionPatch")
    vstr = re.search(r'let s: StaticString = "(\d+\.\d+\.\d+)"', (API_DIR / "Version.swift").read_text())
    if not vstr or vstr.group(1) != f"{major}.{minor}.{patch}":
        fail("cnn_version_string() literal disagrees with cnnVersionMajor/Minor/Patch")
    align = swift_const(ROOT / "Sources/CNNRuntime/Runtime/Context.swift", "arenaAlignment")

    types = TYPES_H.read_text()
    m = re.search(r"/\* CNNRT-PUBLIC-BEGIN \*/\n(.*?)/\* CNNRT-PUBLIC-END \*/", types, re.S)
    if not m:
        fail("public markers missing in cnnrt_types.h")
    # Swift-only naming attributes stay out of the public header.
    public_types = re.sub(r" CNN_SWIFT_NAME\(\w+\)| CNN_CLOSED_ENUM", "", m.group(1))
    public_types = re.sub(r"(typedef enum [^{]*\{.*?\n\} (\w+);)", r"\1\nCNN_ENUM_IS_32_BIT(\2);",
                          public_types, flags=re.S)

    out = [PROLOGUE.read_text().rstrip() + "\n",
           "#ifndef CNNRT_H\n#define CNNRT_H\n",
           "#include <stddef.h>\n#include <stdint.h>\n",
           "#ifdef __cplusplus\nextern \"C\" {\n#endif\n",
           "/** Version of this header. */",
           f"#define CNN_VERSION_MAJOR {major}",
           f"#define CNN_VERSION_MINOR {minor}",
           f"#define CNN_VERSION_PATCH {patch}",
           "/** (major << 16) | (minor << 8) | patch, comparable with cnn_version(). */",
           f"#define CNN_VERSION_NUMBER 0x{(major << 16) | (minor << 8) | patch:06x}u",
           f'#define CNN_VERSION_STRING "{major}.{minor}.{patch}"',
           "/** Required alignment, in bytes, of an arena passed to cnn_context_init()",
           " *  and of model data passed to cnn_model_load_memory(). */",
           f"#define CNN_ARENA_ALIGNMENT {align}\n",
           "/* Every enum below is 4 bytes in the library (as C compilers lay enums out",
           " * by default). A compiler told to make enums as small as their values",
           " * (arm-none-eabi-gcc's default, -fshort-enums) would disagree with the",
           " * library about cnn_status; this stops such a build at compile time. */",
           "#if defined(__cplusplus)",
           "#define CNN_ENUM_IS_32_BIT(T) static_assert(sizeof(T) == 4, \"cnnrt: \" #T \" must be 4 bytes as in the library: compile with -fno-short-enums\")",
           "#else",
           "#define CNN_ENUM_IS_32_BIT(T) _Static_assert(sizeof(T) == 4, \"cnnrt: \" #T \" must be 4 bytes as in the library: compile with -fno-short-enums\")",
           "#endif\n",
           "/* ---- Types -------------------------------------------------------- */\n",
           public_types]
    seen = set()
    for kind, name, doc in items:
        if kind == "enum":
            if name not in enums:
                fail(f"enum {name} missing from the swiftc header")
            docs = case_docs(name)
            prefix = name.upper()
            out.append(comment(doc) + f"typedef enum {name} {{")
            for case, value in enums[name]:
                swift_case = case[0].lower() + case[1:]
                d = docs.get(swift_case, "")
                out.append(f"  {prefix}_{screaming(case)} = {value},{'  /**< ' + d + ' */' if d else ''}")
            out.append(f"}} {name};")
            out.append(f"CNN_ENUM_IS_32_BIT({name});\n")
            if len(out) == 0:
                pass
        else:
            if name not in funcs:
                fail(f"function {name} missing from the swiftc header")
            if name == "cnn_status_string" and "/* ---- Functions" not in "".join(out):
                pass
            out.append(comment(doc) + funcs[name] + "\n")
        seen.add(name)
    missing = set(funcs) - seen
    if missing:
        fail(f"functions without a source entry: {sorted(missing)}")
    out.append("#ifdef __cplusplus\n}  /* extern \"C\" */\n#endif\n\n#endif /* CNNRT_H */\n")
    return "\n".join(out)


def main():
    if len(sys.argv) < 3:
        fail(__doc__)
    text = generate(sys.argv[1])
    out = Path(sys.argv[2])
    if "--check" in sys.argv[3:]:
        if not out.exists() or out.read_text() != text:
            fail(f"{out} is stale: run `make header` and commit it")
        print(f"gen_header: {out} is up to date")
        return
    out.write_text(text)
    print(f"gen_header: wrote {out}")


if __name__ == "__main__":
    main()
