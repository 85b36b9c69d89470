#!/usr/bin/env node
// Applies Showcase's changes to a pristine mediasoup worker source tree (from
// `npm pack mediasoup@<VERSION>`) so it builds against Debian's libraries.
//
//   node patches/apply.mjs <unpacked-package-dir>
//
// Every edit states the exact text it expects and how many times; if the
// source does not match (e.g. a new mediasoup version), it throws and nothing
// half-done is left unnoticed: build.sh re-extracts the source on every retry.
// Why each change is needed: native/README.md.
import { readFileSync, writeFileSync, mkdirSync, copyFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = process.argv[2];
if (!root) throw new Error('usage: apply.mjs <unpacked mediasoup package dir>');
const worker = join(root, 'worker');

function count(text, needle) {
  let n = 0;
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}

/** Replace `from` with `to`, requiring exactly `times` occurrences. */
function replace(file, text, from, to, times = 1) {
  const n = count(text, from);
  if (n !== times) {
    throw new Error(`${file}: expected ${times} occurrence(s) of ${JSON.stringify(from)}, found ${n}`);
  }
  return text.split(from).join(to);
}

function edit(rel, fn) {
  const file = join(worker, rel);
  const before = readFileSync(file, 'utf8');
  const after = fn(before, rel);
  if (after === before) throw new Error(`${rel}: no change made`);
  writeFileSync(file, after);
  console.log(`patched worker/${rel}`);
}

/**
 * Remove every top-level `<name>_proj = subproject('<dir>', ...)` block whose
 * directory is in `names`; all of them must be present, and none may remain.
 */
function dropSubprojects(text, rel, names) {
  const re = /^(\w+)_proj = subproject\(\n {2}'([\w-]+)',\n(?: {2}.*\n)*?\)\n\n?/gm;
  const found = [];
  const out = text.replace(re, (block, _var, dir) => {
    if (!names.includes(dir)) return block;
    found.push(dir);
    return '';
  });
  const missing = names.filter((n) => !found.includes(n));
  if (missing.length || found.length !== names.length) {
    throw new Error(`${rel}: subproject blocks expected ${names.join(',')}, found ${found.join(',') || 'none'}`);
  }
  return out;
}

// System dependencies replacing the wrap subprojects. The variables keep the
// names the rest of the build files use after the get_variable() rewrites.
const systemDeps = `# Showcase: Debian's system libraries (pkg-config) instead of meson wrap
# subprojects, which are downloaded from GitHub/wrapdb. See native/README.md.
openssl_dep = dependency('openssl', version: '>= 3.0.0')
libuv_dep = dependency('libuv', version: '>= 1.44.0')
# showcase-compat/srtp.h provides libsrtp3's API on top of libsrtp2; it is the
# only srtp.h on the include path (libsrtp2's header is <srtp2/srtp.h>).
libsrtp_dep = declare_dependency(
  include_directories: include_directories('showcase-compat'),
  dependencies: dependency('libsrtp2', version: '>= 2.5.0'),
)
usrsctp_dep = dependency('usrsctp')
flatbuffers_dep = dependency('flatbuffers', version: '>= 2.0.0')
absl_strings_dep = dependency('absl_strings')
absl_types_dep = dependency('absl_optional')
absl_container_dep = declare_dependency(
  dependencies: [
    dependency('absl_strings'),
    dependency('absl_optional'),
    dependency('absl_flat_hash_map'),
    dependency('absl_flat_hash_set'),
    dependency('absl_btree'),
    dependency('absl_inlined_vector'),
    dependency('absl_memory'),
  ],
)
`;

edit('meson.build', (t, rel) => {
  t = replace(rel, t, "meson_version: '>= 1.1.0',", "meson_version: '>= 1.0.0',");
  // Catch2 (v3, not in bookworm) is only a subproject under `ms_build_tests`, which stays off:
  // that block is left as it is.
  t = dropSubprojects(t, rel, ['openssl', 'libuv', 'libsrtp3', 'usrsctp', 'abseil-cpp', 'flatbuffers']);
  t = replace(rel, t, '# flatbuffers schemas subdirectory.\n', systemDeps + '# flatbuffers schemas subdirectory.\n');
  // link_whole only feeds the (not built by default) shared library target;
  // system libraries are linked through `dependencies` instead.
  for (const line of [
    "  abseil_cpp_proj.get_variable('absl_container_lib'),\n",
    "  openssl_proj.get_variable('libcrypto_lib'),\n",
    "  openssl_proj.get_variable('libssl_lib'),\n",
    "  libuv_proj.get_variable('libuv'),\n",
    "  libsrtp3_proj.get_variable('libsrtp3'),\n",
    "  usrsctp_proj.get_variable('usrsctp'),\n",
    "  flatbuffers_proj.get_variable('flatbuffers_lib'),\n",
  ]) {
    t = replace(rel, t, line, '');
  }
  t = replace(rel, t, "abseil_cpp_proj.get_variable('absl_container_dep')", 'absl_container_dep');
  t = replace(rel, t, "openssl_proj.get_variable('openssl_dep')", 'openssl_dep');
  t = replace(rel, t, "libuv_proj.get_variable('libuv_dep')", 'libuv_dep');
  t = replace(rel, t, "libsrtp3_proj.get_variable('libsrtp3_dep')", 'libsrtp_dep');
  t = replace(rel, t, "usrsctp_proj.get_variable('usrsctp_dep')", 'usrsctp_dep');
  t = replace(rel, t, "flatbuffers_proj.get_variable('flatbuffers_dep')", 'flatbuffers_dep');
  // Only the Windows (wingetopt), liburing (disabled) and test-only (catch2) branches may still
  // use subprojects; nothing else may reference a removed *_proj variable.
  const kept = ['wingetopt', 'liburing', 'catch2'];
  const left = [...t.matchAll(/(\w+)_proj\b/g)].map((m) => m[1]).filter((v) => !kept.includes(v));
  if (left.length) throw new Error(`${rel}: leftover subproject references: ${[...new Set(left)].join(',')}`);
  return t;
});

edit('deps/libwebrtc/meson.build', (t, rel) => {
  t = dropSubprojects(t, rel, ['abseil-cpp']);
  t = replace(rel, t, "abseil_cpp_proj.get_variable('absl_strings_dep')", 'absl_strings_dep', 2);
  t = replace(rel, t, "abseil_cpp_proj.get_variable('absl_types_dep')", 'absl_types_dep', 2);
  t = replace(rel, t, "openssl_proj.get_variable('openssl_dep')", 'openssl_dep');
  t = replace(rel, t, "flatbuffers_proj.get_variable('flatbuffers_dep')", 'flatbuffers_dep');
  t = replace(rel, t, "libuv_proj.get_variable('libuv_dep')", 'libuv_dep');
  if (/_proj\b/.test(t)) throw new Error(`${rel}: leftover subproject references`);
  return t;
});

// OpenSSL calls the BIO callback with BIO_CB_RETURN OR-ed into the operation
// (e.g. BIO_CB_RETURN | BIO_CB_CTRL); `==` never matched it, so the callback
// answered 1 to every control call, which Debian's kTLS-enabled libssl reads as
// "this BIO does kTLS" -> no DTLS write buffer -> segfault in SSL_read.
edit('src/RTC/DtlsTransport.cpp', (t, rel) =>
  replace(
    rel,
    t,
    'long resultOfcallback = (operationType == BIO_CB_RETURN) ? static_cast<long>(ret) : 1;',
    'long resultOfcallback = (operationType & BIO_CB_RETURN) ? static_cast<long>(ret) : 1;',
  ),
);

// libsrtp3 -> libsrtp2 compatibility headers.
const compatSrc = join(here, '..', 'compat');
const compatDst = join(worker, 'showcase-compat');
mkdirSync(compatDst, { recursive: true });
for (const f of readdirSync(compatSrc)) {
  copyFileSync(join(compatSrc, f), join(compatDst, f));
  console.log(`added worker/showcase-compat/${f}`);
}
