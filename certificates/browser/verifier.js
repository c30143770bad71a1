/*
 * VaxViet certificate verifier for the browser (and Web Workers): the stages of
 * certificates/verify.py, with the same pass/fail rules, in plain JavaScript.
 *
 *   HC1: text -> base45 -> zlib (DecompressionStream) -> COSE_Sign1 -> CWT claims
 *   -> signature (WebCrypto: ES256 on P-256, PS256) -> key usage -> expiry -> schema
 *
 * API (globalThis.VaxVerifier):
 *   await verifyText(text, {trust, rules, now})  -> the object of Python's Verification.to_json()
 *   await verifyCose(bytes, {trust, rules, now}) -> the same, from the COSE_Sign1 bytes on
 *   base45decode(text) -> Uint8Array (throws on bad input)
 *   await inflate(bytes) -> Uint8Array (exactly one complete zlib stream; throws otherwise)
 *   cborDecode(bytes) -> value (throws on bad input)
 *   STAGES -> the stage names in chain order
 *
 * `trust` is certificates.browser.trust_document(...), `rules` is rules_document(), `now` a
 * Date. Neither function throws on bad input: every failure is a stage result with a reason.
 *
 * `inflate` refuses bytes after the end of the zlib stream (junk, a second stream), as
 * Python's hcert.inflate does (zlib's unused_data) and the EU reference does; a truncated
 * stream fails.
 *
 * CBOR values (as cbor2 decodes them, which the Python verifier uses): integers are
 * Numbers (BigInt outside the safe range), floats Numbers except integral ones (and -0),
 * which are CborFloat (Python tells 2.0 from 2: an alg of -7.0 is no alg, a dn of 2.0 no
 * status); byte strings Uint8Array; arrays Array; maps Map, with keys Python finds equal
 * (1, 1.0, true) merged as a dict merges them; tags CborTag, except those cbor2 reads
 * (0/1 CborDateTime, 2/3 integers, 100/1004 CborDate, 55799 dropped, 28 its value, 25/256
 * string references resolved, 4/5/30/35/36/37/258/260/261 Opaque with cbor2's checks; 29,
 * shared references, refused); simple values CborSimple. Bytes after the first item are
 * ignored, containers may nest 400 deep. The DCC payload is then made plain JSON as
 * hcert.to_json does: keys as Python's str(key), bytes as hex, date-times as UTC ISO text,
 * null for NaN, infinities, integers beyond a double's range and every value JSON has no
 * form for (Decimal, Fraction, UUID, set, regular expression, MIME message, IP address,
 * simple values, undefined); the schema stage validates that JSON, as Python does.
 *
 * Map keys merge as Python's dict merges them (1, 1.0, True, Decimal(1), Fraction(2, 2);
 * CBORSimpleValue(1) equals 1 and True only).
 *
 * Known differences (stages and verdicts agree; the payload object does not):
 * integers beyond 2^53 in the payload come out as the nearest double; map keys of those
 * non-JSON kinds are not spelt as Python's str() spells them, and one that is not a whole
 * number does not merge with an equal float key.
 * A shared reference (tag 29 after 28) is refused here, resolved by cbor2.
 */
(function (root) {
  "use strict";

  var STAGES = Object.freeze([
    "qr", "prefix", "base45", "zlib", "cose", "cbor", "signature", "key_usage", "expiry",
    "schema",
  ]);
  var PREFIX = "HC1:";
  var ALG_ES256 = -7;
  var ALG_PS256 = -37;
  var ALGORITHMS = { "-7": "ES256", "-37": "PS256" };
  var CERTIFICATE_TYPES = ["v", "t", "r"];
  var CODED_FIELDS = {
    v: { tg: "disease-agent-targeted", vp: "vaccine-prophylaxis",
         mp: "vaccine-medicinal-product", ma: "vaccine-mah-manf" },
    t: { tg: "disease-agent-targeted", tt: "test-type", tr: "test-result" },
    r: { tg: "disease-agent-targeted" },
  };

  // ---------------------------------------------------------------- value classes

  function CborTag(tag, value) { this.tag = tag; this.value = value; }
  function CborSimple(value) { this.value = value; }
  /** A float with an integral value (Python keeps 2.0 apart from 2). */
  function CborFloat(value) { this.value = value; }
  /** A date-time (tags 0 and 1): `seconds` since the epoch (Number), `micro` 0..999999,
   * and the UTC `offset` it was written with, in seconds. */
  function CborDateTime(seconds, micro, offset) {
    this.seconds = seconds;
    this.micro = micro;
    this.offset = offset || 0;
  }

  /** A calendar date (tags 100 and 1004), as ISO text. */
  function CborDate(iso) { this.iso = iso; }
  /** A value cbor2 decodes to a Python type JSON has no form for (Decimal, Fraction, UUID,
   * set, regular expression, MIME message, IP address or network): numbers keep `value`,
   * and `exact`, the BigInt Python finds them equal to when they are a whole number (as map
   * keys they then merge with that int), else null; toJson makes it null (so does
   * JSON.stringify). */
  function Opaque(kind, value, exact) {
    this.kind = kind;
    this.value = value;
    this.exact = exact === undefined ? null : exact;
  }
  Opaque.prototype.toJSON = function () { return null; };
  Opaque.prototype.valueOf = function () { return this.kind === "number" ? this.value : NaN; };

  function DecodeError(message) { this.message = message; }
  DecodeError.prototype = Object.create(Error.prototype);
  DecodeError.prototype.name = "DecodeError";

  // ---------------------------------------------------------------- small helpers

  // Python's str.isspace() characters (str.strip() with no argument removes these).
  var PY_SPACE = /^[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

  function pyStrip(text) { return text.replace(PY_SPACE, ""); }

  function hex(bytes) {
    var out = "";
    for (var i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return out;
  }

  function b64decode(text) {
    var binary = atob(text);
    var out = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  }

  function sameBytes(a, b) {
    if (a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  function isInt(value) {
    // Python isinstance(value, int), bool included (bool is an int in Python)
    return (typeof value === "number" && Number.isInteger(value) && !Object.is(value, -0)) ||
      typeof value === "bigint" || typeof value === "boolean";
  }

  function pyInt(value) {
    // the int of an isInt value
    return typeof value === "boolean" ? (value ? 1 : 0) : value;
  }

  /** Python equality of a decoded value with an int key (1 == 1.0 == True). */
  function equalsInt(key, wanted) {
    if (typeof key === "number") return key === wanted;
    if (typeof key === "bigint") return key === BigInt(wanted);
    if (typeof key === "boolean") return (key ? 1 : 0) === wanted;
    if (key instanceof CborFloat || key instanceof CborSimple) return key.value === wanted;
    if (key instanceof Opaque) return key.exact !== null && key.exact === BigInt(wanted);
    return false;
  }

  /** `map.get(key)` as a Python dict would answer it for an int or str key: keys equal to
   * it that were not merged (1.0 and CBORSimpleValue(1) are not equal to each other) are
   * tried in the order they came. */
  function pyGet(map, key) {
    if (!(map instanceof Map)) return undefined;
    if (typeof key === "string") return map.get(key);
    var found, seen = false;
    map.forEach(function (value, candidate) {
      if (!seen && equalsInt(candidate, key)) { found = value; seen = true; }
    });
    return found;
  }

  // ---------------------------------------------------------------- base45 (RFC 9285)

  var B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
  var B45_VALUE = new Int8Array(128).fill(-1);
  for (var b45i = 0; b45i < B45.length; b45i++) B45_VALUE[B45.charCodeAt(b45i)] = b45i;

  /** base45 text to bytes, as the `base45` package reads it (trailing newlines ignored). */
  function base45decode(text) {
    if (typeof text !== "string") throw new DecodeError("base45 input must be text");
    var body = text.replace(/\n+$/, "");
    var values = new Array(body.length);
    for (var i = 0; i < body.length; i++) {
      var code = body.charCodeAt(i);
      var value = code < 128 ? B45_VALUE[code] : -1;
      if (value < 0) throw new DecodeError("not base45: invalid character");
      values[i] = value;
    }
    if (values.length % 3 === 1) throw new DecodeError("not base45: invalid length");
    var out = new Uint8Array(Math.floor(values.length / 3) * 2 + (values.length % 3 ? 1 : 0));
    var at = 0;
    for (var j = 0; j < values.length; j += 3) {
      if (values.length - j >= 3) {
        var x = values[j] + values[j + 1] * 45 + values[j + 2] * 2025;
        if (x > 0xffff) throw new DecodeError("not base45: triplet out of range");
        out[at++] = x >> 8;
        out[at++] = x & 0xff;
      } else {
        var y = values[j] + values[j + 1] * 45;
        if (y > 0xff) throw new DecodeError("not base45: pair out of range");
        out[at++] = y;
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- zlib

  /** Inflate with the browser's zlib; its own error (junk, truncated, bad data) is thrown. */
  async function decompress(bytes) {
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    var reader = stream.getReader(), parts = [], total = 0;
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) break;
      parts.push(chunk.value);
      total += chunk.value.length;
    }
    var out = new Uint8Array(total), at = 0;
    parts.forEach(function (part) { out.set(part, at); at += part.length; });
    return out;
  }

  function errorText(error) { return String((error && error.message) || error); }
  // Chromium: "Junk found after end of compressed data."; other engines word it otherwise
  function isJunk(error) { return /junk|trailing|extra|past the end|after (the )?end/i.test(errorText(error)); }
  function isTruncated(error) { return /truncat|unexpected end|incomplete/i.test(errorText(error)); }

  /**
   * Exactly one complete zlib stream, as Python's hcert.inflate reads it: an incomplete
   * stream fails, and so do bytes after the end of the stream (Chromium's zlib reports
   * them as junk).
   */
  async function inflate(bytes) {
    if (!(bytes instanceof Uint8Array)) throw new DecodeError("inflate takes a Uint8Array");
    if (bytes.length === 0) throw new DecodeError("zlib stream is truncated");
    try {
      return await decompress(bytes);
    } catch (error) {
      if (isTruncated(error)) throw new DecodeError("zlib stream is truncated");
      if (isJunk(error)) throw new DecodeError("bytes after the end of the zlib stream");
      throw new DecodeError("not a zlib stream: " + errorText(error));
    }
  }

  // ---------------------------------------------------------------- CBOR (RFC 8949)

  var UTF8 = new TextDecoder("utf-8", { fatal: true });
  var BREAK = {};

  function halfFloat(bits) {
    var exponent = (bits >> 10) & 0x1f, fraction = bits & 0x3ff;
    var value;
    if (exponent === 0) value = fraction * Math.pow(2, -24);
    else if (exponent === 31) value = fraction ? NaN : Infinity;
    else value = (fraction + 1024) * Math.pow(2, exponent - 25);
    return bits & 0x8000 ? -value : value;
  }

  function floatValue(value) {
    return Number.isInteger(value) ? new CborFloat(value) : value; // -0 is an integer here
  }

  function Reader(bytes) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.at = 0;
    this.depth = 0;
    this.strings = null; // the string table of the innermost tag-256 namespace
  }

  Reader.prototype.need = function (count) {
    if (this.at + count > this.bytes.length) throw new DecodeError("premature end of stream");
  };

  /** The argument of a head: Number, or BigInt above 2^53 - 1; null for indefinite. */
  Reader.prototype.argument = function (info, major) {
    if (info < 24) return info;
    var view = this.view, at = this.at, value;
    switch (info) {
      case 24: this.need(1); value = view.getUint8(at); this.at += 1; return value;
      case 25: this.need(2); value = view.getUint16(at); this.at += 2; return value;
      case 26: this.need(4); value = view.getUint32(at); this.at += 4; return value;
      case 27:
        this.need(8);
        value = view.getBigUint64(at);
        this.at += 8;
        return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
      case 31:
        if (major === 0 || major === 1 || major === 6) {
          throw new DecodeError("invalid additional information 31 for major type " + major);
        }
        return null;
      default:
        throw new DecodeError("unknown additional information " + info);
    }
  };

  Reader.prototype.length = function (argument) {
    if (typeof argument === "bigint" || argument > this.bytes.length - this.at) {
      throw new DecodeError("premature end of stream");
    }
    return argument;
  };

  Reader.prototype.item = function (allowBreak) {
    this.need(1);
    var initial = this.bytes[this.at++];
    var major = initial >> 5, info = initial & 0x1f;
    if (major === 7) return this.special(info, allowBreak);
    var argument = this.argument(info, major);
    switch (major) {
      case 0: return argument;
      case 1: return typeof argument === "bigint" || argument >= Number.MAX_SAFE_INTEGER
        ? -1n - BigInt(argument) : -1 - argument;
      case 2: return this.byteString(argument);
      case 3: return this.textString(argument);
      case 4: return this.nested(function (reader) { return reader.array(argument); });
      case 5: return this.nested(function (reader) { return reader.map(argument); });
      default: return this.nested(function (reader) { return reader.tagged(argument); });
    }
  };

  Reader.prototype.nested = function (read) {
    if (++this.depth > 400) throw new DecodeError("maximum container nesting depth (400) exceeded");
    try { return read(this); } finally { this.depth--; }
  };

  Reader.prototype.special = function (info, allowBreak) {
    var view = this.view, at = this.at, value;
    if (info < 20) return new CborSimple(info);
    switch (info) {
      case 20: return false;
      case 21: return true;
      case 22: return null;
      case 23: return undefined;
      case 24:
        this.need(1);
        value = view.getUint8(at);
        this.at += 1;
        if (value < 32) throw new DecodeError("invalid two-byte sequence for simple value");
        return new CborSimple(value);
      case 25: this.need(2); this.at += 2; return floatValue(halfFloat(view.getUint16(at)));
      case 26: this.need(4); this.at += 4; return floatValue(view.getFloat32(at));
      case 27: this.need(8); this.at += 8; return floatValue(view.getFloat64(at));
      case 31:
        if (allowBreak) return BREAK;
        throw new DecodeError("break code encountered where a data item was expected");
      default:
        throw new DecodeError("undefined reserved major type 7 subtype " + info);
    }
  };

  Reader.prototype.chunks = function (major) {
    var parts = [], total = 0;
    for (;;) {
      this.need(1);
      var initial = this.bytes[this.at++];
      if (initial === 0xff) break;
      if (initial >> 5 !== major || (initial & 0x1f) === 31) {
        throw new DecodeError("wrong chunk in an indefinite-length string");
      }
      var size = this.length(this.argument(initial & 0x1f, major));
      parts.push(this.bytes.subarray(this.at, this.at + size));
      this.at += size;
      total += size;
    }
    var out = new Uint8Array(total), offset = 0;
    parts.forEach(function (part) { out.set(part, offset); offset += part.length; });
    return { parts: parts, joined: out };
  };

  /** Strings long enough to gain from a reference join the namespace's table (tag 256). */
  Reader.prototype.remember = function (value, size) {
    var table = this.strings;
    if (table === null) return value;
    var count = table.length;
    var least = count < 24 ? 3 : count < 256 ? 4 : count < 65536 ? 5 : count < 4294967296 ? 7 : 11;
    if (size >= least) table.push(value);
    return value;
  };

  Reader.prototype.byteString = function (argument) {
    if (argument === null) return this.chunks(2).joined;
    var size = this.length(argument);
    var out = this.bytes.slice(this.at, this.at + size);
    this.at += size;
    return this.remember(out, size);
  };

  Reader.prototype.textString = function (argument) {
    try {
      if (argument === null) {
        return this.chunks(3).parts.map(function (part) { return UTF8.decode(part); }).join("");
      }
      var size = this.length(argument);
      var text = UTF8.decode(this.bytes.subarray(this.at, this.at + size));
      this.at += size;
      return this.remember(text, size);
    } catch (error) {
      if (error instanceof DecodeError) throw error;
      throw new DecodeError("invalid UTF-8 in a text string");
    }
  };

  Reader.prototype.array = function (argument) {
    var out = [];
    if (argument === null) {
      for (;;) {
        var item = this.item(true);
        if (item === BREAK) return out;
        out.push(item);
      }
    }
    var count = this.length(argument);
    for (var i = 0; i < count; i++) out.push(this.item(false));
    return out;
  };

  Reader.prototype.map = function (argument) {
    var out = new Map();
    var count = argument === null ? Infinity : this.length(argument);
    for (var i = 0; i < count; i++) {
      var key = this.item(argument === null);
      if (key === BREAK) break;
      var value = this.item(argument === null);
      if (value === BREAK) throw new DecodeError("missing value for key in indefinite-length map");
      mapSet(out, key, value);
    }
    return out;
  };

  /** Python dict semantics: an equal key (1, 1.0, True, Decimal(1); equal bytes or text)
   * keeps its first spelling and position and takes the last value. */
  function mapSet(map, key, value) {
    var probe = hashKey(key);
    if (probe !== null) {
      var seen = map.__keys || (map.__keys = new Map());
      var same = seen.get(probe);
      if (!same) seen.set(probe, (same = []));
      for (var i = 0; i < same.length; i++) {
        if (pyEqual(same[i], key)) { map.set(same[i], value); return; }
      }
      same.push(key);
    }
    map.set(key, value);
  }

  /** Keys with the same hashKey are equal in Python, but for a simple value: it equals ints
   * and bools only (CBORSimpleValue(1) != 1.0, != Decimal(1)). */
  function pyEqual(a, b) {
    var simpleA = a instanceof CborSimple, simpleB = b instanceof CborSimple;
    if (simpleA === simpleB) return true;
    var other = simpleA ? b : a;
    return !(other instanceof CborFloat || other instanceof Opaque);
  }

  /** A text that is equal for keys Python finds equal: 1 == 1.0 == True ==
   * CBORSimpleValue(1); equal bytes, text, tuples, frozendicts, tags, instants. */
  function hashKey(key) {
    if (typeof key === "string") return "s" + key;
    if (typeof key === "boolean") return "n" + (key ? 1 : 0);
    if (typeof key === "number") return Number.isNaN(key) ? null : "n" + key; // nan != nan
    if (typeof key === "bigint") return "n" + key.toString();
    if (key instanceof CborFloat) {
      var number = key.value;
      return "n" + (Math.abs(number) >= 2 ** 53 ? BigInt(number).toString() : Object.is(number, -0) ? 0 : number);
    }
    if (key instanceof CborSimple) return "n" + key.value;
    if (key instanceof Opaque) return key.exact === null ? null : "n" + key.exact.toString();
    if (key instanceof Uint8Array) return "b" + hex(key);
    if (key === null) return "N";
    if (key === undefined) return "U";
    if (key instanceof CborDateTime) return "d" + key.seconds + "." + key.micro;
    if (key instanceof CborDate) return "D" + key.iso;
    if (key instanceof CborTag) return "g" + key.tag + ":" + hashKey(key.value);
    if (Array.isArray(key)) return "t" + JSON.stringify(key.map(hashKey));
    if (key instanceof Map) {
      var pairs = [];
      key.forEach(function (value, name) { pairs.push(hashKey(name) + "=" + hashKey(value)); });
      return "m" + JSON.stringify(pairs.sort());
    }
    return null;
  }

  var TAG_DATETIME_TEXT = 0, TAG_DATETIME_EPOCH = 1, TAG_BIGNUM = 2, TAG_NEGATIVE_BIGNUM = 3;
  var TAG_SELF_DESCRIBED = 55799;

  function isPlainInt(value) {
    return (typeof value === "number" && Number.isInteger(value)) || typeof value === "bigint";
  }

  var MIN_DAY = -719162, MAX_DAY = 2932896; // 0001-01-01 and 9999-12-31, in days since 1970

  function dateOfDays(days) {
    var date = new Date(days * 86400000);
    return new CborDate(pad(date.getUTCFullYear(), 4) + "-" + pad(date.getUTCMonth() + 1, 2) + "-" +
      pad(date.getUTCDate(), 2));
  }

  // Whole numbers of tags 4, 5 and 30 as Python's Decimal and Fraction give them (for map
  // keys: Decimal(1) == 1). Exponents beyond 1100 are left out (null): no key of a
  // certificate reaches such a number.
  var EXPONENT_LIMIT = 1100, DECIMAL_DIGITS = 28;

  /** coefficient * 10^exponent as a BigInt when whole, else null. */
  function wholeOf(coefficient, exponent) {
    if (coefficient === 0n) return 0n;
    if (exponent >= 0) return exponent > EXPONENT_LIMIT ? null : coefficient * 10n ** BigInt(exponent);
    if (-exponent > EXPONENT_LIMIT) return null;
    var unit = 10n ** BigInt(-exponent);
    return coefficient % unit === 0n ? coefficient / unit : null;
  }

  /** Tag 4: Decimal((sign, digits, exponent)), exact. */
  function decimalWhole(mantissa, exponent) {
    if (typeof exponent === "bigint") return mantissa === 0n ? 0n : null;
    return wholeOf(mantissa, exponent);
  }

  /** A Decimal rounded as the default context rounds (28 digits, half even): [c, e]. */
  function roundDecimal(coefficient, exponent) {
    var negative = coefficient < 0n;
    if (negative) coefficient = -coefficient;
    var drop = coefficient.toString().length - DECIMAL_DIGITS;
    if (drop > 0) {
      var unit = 10n ** BigInt(drop), rest = coefficient % unit, half = unit / 2n;
      coefficient /= unit;
      if (rest > half || (rest === half && coefficient % 2n === 1n)) coefficient += 1n;
      exponent += drop;
      if (coefficient === 10n ** BigInt(DECIMAL_DIGITS)) { coefficient /= 10n; exponent += 1; }
    }
    return [negative ? -coefficient : coefficient, exponent];
  }

  /** Tag 5: cbor2 computes Decimal(mantissa) * 2 ** Decimal(exponent), each step rounded. */
  function bigfloatWhole(mantissa, exponent) {
    if (mantissa === 0n) return 0n;
    if (typeof exponent === "bigint" || Math.abs(exponent) > EXPONENT_LIMIT) return null;
    var power = exponent >= 0 ? roundDecimal(2n ** BigInt(exponent), 0)
      : roundDecimal(5n ** BigInt(-exponent), exponent); // 2^-k = 5^k * 10^-k
    var product = roundDecimal(mantissa * power[0], power[1]);
    return wholeOf(product[0], product[1]);
  }

  /** The tags cbor2 reads into Python types, with what it refuses (others stay CborTag). */
  function semantic(tag, value) {
    var fail = function (what) { return new DecodeError("error decoding " + what); };
    switch (tag) {
      case 4: case 5: {
        if (!Array.isArray(value) || value.length !== 2) throw fail("decimal fraction");
        if (!isPlainInt(value[0])) throw fail("decimal fraction: exponent must be an integer");
        if (!isPlainInt(value[1])) throw fail("decimal fraction: mantissa must be an integer");
        return new Opaque("number", Number(value[1]) * Math.pow(tag === 4 ? 10 : 2, Number(value[0])),
          tag === 4 ? decimalWhole(BigInt(value[1]), value[0]) : bigfloatWhole(BigInt(value[1]), value[0]));
      }
      case 30: {
        if (!Array.isArray(value) || value.length !== 2 || !isInt(value[0]) || !isInt(value[1]) ||
            Number(pyInt(value[1])) === 0) {
          throw fail("rational");
        }
        var numerator = BigInt(pyInt(value[0])), denominator = BigInt(pyInt(value[1]));
        return new Opaque("number", Number(pyInt(value[0])) / Number(pyInt(value[1])),
          numerator % denominator === 0n ? numerator / denominator : null);
      }
      case 29: throw fail("shared reference not found");
      case 28: return value;
      case 35:
        if (typeof value !== "string" && !(value instanceof Uint8Array)) throw fail("regular expression");
        return new Opaque("regex");
      case 36:
        if (typeof value !== "string" && value !== null) throw fail("MIME message");
        return new Opaque("mime");
      case 37:
        if (!(value instanceof Uint8Array) || value.length !== 16) throw fail("UUID");
        return new Opaque("uuid");
      case 100: {
        if (!isInt(value)) throw fail("epoch-form date");
        var days = Number(pyInt(value));
        if (days < MIN_DAY || days > MAX_DAY) throw fail("epoch-form date");
        return dateOfDays(days);
      }
      case 1004: {
        var match = typeof value === "string" && /^(\d{4})(-?)(\d{2})\2(\d{2})$/.exec(value);
        if (!match) throw fail("string-form date");
        var year = +match[1], month = +match[3], day = +match[4];
        var probe = new Date(0);
        probe.setUTCFullYear(year, month - 1, day);
        if (year < 1 || probe.getUTCFullYear() !== year || probe.getUTCMonth() !== month - 1 ||
            probe.getUTCDate() !== day) {
          throw fail("string-form date");
        }
        return new CborDate(match[1] + "-" + match[3] + "-" + match[4]);
      }
      case 258:
        if (!Array.isArray(value)) throw fail("set");
        return new Opaque("set");
      case 260:
        if (!(value instanceof Uint8Array)) throw fail("IP address");
        if (value.length === 6) return new CborTag(tag, value);
        if (value.length !== 4 && value.length !== 16) throw fail("IP address");
        return new Opaque("ip");
      case 261: {
        if (!(value instanceof Map) || value.size !== 1) throw fail("IP network");
        var address = value.keys().next().value, prefix = value.values().next().value;
        var bits = address instanceof Uint8Array ? address.length * 8 : 0;
        if ((bits !== 32 && bits !== 128) || !isPlainInt(prefix) || prefix < 0 || prefix > bits) {
          throw fail("IP network");
        }
        return new Opaque("ip");
      }
      default:
        return new CborTag(tag, value);
    }
  }

  var TAG_STRING_REFERENCE = 25, TAG_STRING_NAMESPACE = 256;

  Reader.prototype.tagged = function (tag) {
    if (tag === TAG_STRING_NAMESPACE) {
      var outer = this.strings;
      this.strings = [];
      try { return this.item(false); } finally { this.strings = outer; }
    }
    var value = this.item(false);
    if (tag === TAG_STRING_REFERENCE) {
      if (this.strings === null) throw new DecodeError("string reference outside of namespace");
      if (!isPlainInt(value) || value < 0 || value >= this.strings.length) {
        throw new DecodeError("string reference not found");
      }
      var found = this.strings[Number(value)];
      return found instanceof Uint8Array ? found.slice() : found;
    }
    if (tag === TAG_SELF_DESCRIBED) return value;
    if (tag === TAG_DATETIME_TEXT) {
      if (typeof value !== "string") throw new DecodeError("error decoding string-form datetime");
      return parseDateTime(value);
    }
    if (tag === TAG_DATETIME_EPOCH) return epochDateTime(value);
    if (tag === TAG_BIGNUM || tag === TAG_NEGATIVE_BIGNUM) {
      if (!(value instanceof Uint8Array)) throw new DecodeError("bignum value must be a byte string");
      var big = value.length ? BigInt("0x" + hex(value)) : 0n;
      if (tag === TAG_NEGATIVE_BIGNUM) big = -1n - big;
      var safe = big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER);
      return safe ? Number(big) : big;
    }
    return typeof tag === "bigint" ? new CborTag(tag, value) : semantic(tag, value);
  };

  var MIN_SECONDS = -62135596800;   // 0001-01-01T00:00:00Z
  var MAX_SECONDS = 253402300799;   // 9999-12-31T23:59:59Z

  function epochDateTime(value) {
    var number = value instanceof CborFloat ? value.value : pyInt(value);
    if (typeof number === "bigint") {
      if (number < BigInt(MIN_SECONDS) || number > BigInt(MAX_SECONDS)) {
        throw new DecodeError("error decoding epoch-form datetime");
      }
      number = Number(number);
    }
    if (typeof number !== "number" || !Number.isFinite(number)) {
      throw new DecodeError("error decoding epoch-form datetime");
    }
    var seconds = Math.floor(number);
    var micro = Math.round((number - seconds) * 1e6);
    if (micro >= 1e6) { seconds += 1; micro -= 1e6; }
    if (seconds < MIN_SECONDS || seconds > MAX_SECONDS) {
      throw new DecodeError("error decoding epoch-form datetime");
    }
    return new CborDateTime(seconds, micro);
  }

  // Python 3.11 datetime.fromisoformat, with a UTC offset required (as cbor2 reads tag 0).
  var ISO_DATE = /^(\d{4})(-?)(\d{2})\2(\d{2})$/;
  var ISO_TIME = /^(\d{2})(?:(:?)(\d{2})(?:\2(\d{2})(?:[.,](\d*))?)?)?$/;
  var ISO_OFFSET = /^(?:(Z)|([+-])(\d{2})(?:(:?)(\d{2})(?:\4(\d{2})(?:\.(\d{1,6}))?)?)?)$/;

  function parseDateTime(text) {
    var fail = new DecodeError("error decoding string-form datetime");
    if (text.length < 11) throw fail;
    var dateLength = text.charAt(4) === "-" ? 10 : 8;
    var date = ISO_DATE.exec(text.slice(0, dateLength));
    if (!date) throw fail;
    var rest = text.slice(dateLength + 1);
    var split = rest.search(/[Z+-]/);
    if (split < 0) throw new DecodeError("invalid datetime string (missing UTC offset)");
    var time = ISO_TIME.exec(rest.slice(0, split));
    var offset = ISO_OFFSET.exec(rest.slice(split));
    if (!time || !offset) throw fail;
    var year = +date[1], month = +date[3], day = +date[4];
    var hour = +time[1], minute = +(time[3] || 0), second = +(time[4] || 0);
    var micro = +((time[5] || "").slice(0, 6).padEnd(6, "0"));
    if (year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) {
      throw fail;
    }
    var days = new Date(Date.UTC(2000, month, 0)).getUTCDate();
    if (month === 2) days = (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) ? 29 : 28;
    if (day > days) throw fail;
    var shift = 0, shiftMicro = 0;
    if (!offset[1]) {
      var oh = +offset[3], om = +(offset[5] || 0), os = +(offset[6] || 0);
      if (om > 59 || os > 59) throw fail;
      var sign = offset[2] === "-" ? -1 : 1;
      shift = sign * (oh * 3600 + om * 60 + os);
      shiftMicro = sign * +((offset[7] || "").padEnd(6, "0"));
      if (Math.abs(shift) >= 86400) throw fail;
    }
    var base = new Date(0);
    base.setUTCFullYear(year, month - 1, day);
    base.setUTCHours(hour, minute, second, 0);
    // UTC = wall clock - offset, in whole seconds and microseconds
    var seconds = base.getTime() / 1000 - shift;
    micro -= shiftMicro;
    if (micro < 0) { micro += 1e6; seconds -= 1; }
    if (micro >= 1e6) { micro -= 1e6; seconds += 1; }
    return new CborDateTime(seconds, micro, offset[1] ? 0 : shift);
  }

  /** Decode one CBOR data item; bytes after it are ignored (as cbor2.loads does). */
  function cborDecode(bytes) {
    if (!(bytes instanceof Uint8Array)) throw new DecodeError("CBOR input must be a Uint8Array");
    return new Reader(bytes).item(false);
  }

  // A minimal encoder, only for the Sig_structure: ["Signature1", protected, h'', payload].
  function head(major, length) {
    if (length < 24) return [(major << 5) | length];
    if (length < 0x100) return [(major << 5) | 24, length];
    if (length < 0x10000) return [(major << 5) | 25, length >> 8, length & 0xff];
    return [(major << 5) | 26, (length >>> 24) & 0xff, (length >> 16) & 0xff,
      (length >> 8) & 0xff, length & 0xff];
  }

  function sigStructure(protectedBytes, payload) {
    var label = new TextEncoder().encode("Signature1");
    var parts = [[0x84], head(3, label.length), label, head(2, protectedBytes.length),
      protectedBytes, [0x40], head(2, payload.length), payload];
    var size = parts.reduce(function (sum, part) { return sum + part.length; }, 0);
    var out = new Uint8Array(size), at = 0;
    parts.forEach(function (part) { out.set(part, at); at += part.length; });
    return out;
  }

  // ---------------------------------------------------------------- CBOR values as JSON

  function pad(number, width) { return String(number).padStart(width, "0"); }

  function isoOf(dateTime) {
    var date = new Date(dateTime.seconds * 1000);
    var text = pad(date.getUTCFullYear(), 4) + "-" + pad(date.getUTCMonth() + 1, 2) + "-" +
      pad(date.getUTCDate(), 2) + "T" + pad(date.getUTCHours(), 2) + ":" +
      pad(date.getUTCMinutes(), 2) + ":" + pad(date.getUTCSeconds(), 2);
    return text + (dateTime.micro ? "." + pad(dateTime.micro, 6) : "") + "Z";
  }

  /** Python's repr() of a float. */
  function pyFloat(value) {
    if (Number.isNaN(value)) return "nan";
    if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
    if (Object.is(value, -0)) return "-0.0";
    var scientific = value.toExponential().split("e");
    var power = +scientific[1];
    if (power >= 16 || power < -4) {
      return scientific[0] + "e" + (power < 0 ? "-" : "+") + pad(Math.abs(power), 2);
    }
    var fixed = String(value);
    return fixed.indexOf(".") >= 0 ? fixed : fixed + ".0";
  }

  function pyBytesRepr(bytes) {
    var text = "", hasSingle = false, hasDouble = false;
    bytes.forEach(function (byte) {
      if (byte === 0x27) hasSingle = true;
      if (byte === 0x22) hasDouble = true;
    });
    var quote = hasSingle && !hasDouble ? '"' : "'";
    bytes.forEach(function (byte) {
      if (byte === 0x5c) text += "\\\\";
      else if (byte === 0x09) text += "\\t";
      else if (byte === 0x0a) text += "\\n";
      else if (byte === 0x0d) text += "\\r";
      else if (String.fromCharCode(byte) === quote) text += "\\" + quote;
      else if (byte >= 0x20 && byte < 0x7f) text += String.fromCharCode(byte);
      else text += "\\x" + pad(byte.toString(16), 2);
    });
    return "b" + quote + text + quote;
  }

  // what Python's str.isprintable() calls not printable (the space aside)
  var NOT_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

  /** Python's repr() of a text. */
  function pyStrRepr(text) {
    var quote = text.indexOf("'") >= 0 && text.indexOf('"') < 0 ? '"' : "'";
    var out = "";
    for (var char of text) {
      var code = char.codePointAt(0);
      if (char === "\\") out += "\\\\";
      else if (char === quote) out += "\\" + quote;
      else if (char === "\t") out += "\\t";
      else if (char === "\n") out += "\\n";
      else if (char === "\r") out += "\\r";
      else if (char === " " || !NOT_PRINTABLE.test(char)) out += char;
      else if (code < 0x100) out += "\\x" + pad(code.toString(16), 2);
      else if (code < 0x10000) out += "\\u" + pad(code.toString(16), 4);
      else out += "\\U" + pad(code.toString(16), 8);
    }
    return quote + out + quote;
  }

  function pyTimezone(offset) {
    if (!offset) return "datetime.timezone.utc";
    var days = Math.floor(offset / 86400), seconds = offset - days * 86400;
    return "datetime.timezone(datetime.timedelta(" + (days ? "days=" + days + ", " : "") +
      "seconds=" + seconds + "))";
  }

  /** The wall-clock fields of a date-time in its own offset. */
  function wallClock(dateTime) {
    var date = new Date((dateTime.seconds + dateTime.offset) * 1000);
    return [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(),
      date.getUTCMinutes(), date.getUTCSeconds()];
  }

  /** Python's str() of a datetime: ISO with a space, the offset as +HH:MM. */
  function pyDateTimeStr(dateTime) {
    var f = wallClock(dateTime);
    var offset = Math.abs(dateTime.offset);
    var zone = (dateTime.offset < 0 ? "-" : "+") + pad(Math.floor(offset / 3600), 2) + ":" +
      pad(Math.floor(offset / 60) % 60, 2) + (offset % 60 ? ":" + pad(offset % 60, 2) : "");
    return pad(f[0], 4) + "-" + pad(f[1], 2) + "-" + pad(f[2], 2) + " " + pad(f[3], 2) + ":" +
      pad(f[4], 2) + ":" + pad(f[5], 2) + (dateTime.micro ? "." + pad(dateTime.micro, 6) : "") + zone;
  }

  /** Python's repr() of a value decoded as (part of) a map key: arrays are tuples there,
   * maps frozendicts. */
  function pyRepr(value) {
    if (typeof value === "string") return pyStrRepr(value);
    if (typeof value === "number") return Number.isInteger(value) ? String(value) : pyFloat(value);
    if (typeof value === "bigint") return value.toString();
    if (typeof value === "boolean") return value ? "True" : "False";
    if (value === null) return "None";
    if (value === undefined) return "undefined";
    if (value instanceof CborFloat) return pyFloat(value.value);
    if (value instanceof Uint8Array) return pyBytesRepr(value);
    if (value instanceof CborSimple) return "CBORSimpleValue(" + value.value + ")";
    if (value instanceof CborTag) return "CBORTag(" + value.tag + ", " + pyRepr(value.value) + ")";
    if (Array.isArray(value)) {
      var items = value.map(pyRepr);
      return "(" + items.join(", ") + (items.length === 1 ? ",)" : ")");
    }
    if (value instanceof Map) {
      var entries = [];
      value.forEach(function (item, key) { entries.push(pyRepr(key) + ": " + pyRepr(item)); });
      return "frozendict({" + entries.join(", ") + "})";
    }
    if (value instanceof CborDate) {
      return "datetime.date(" + value.iso.split("-").map(Number).join(", ") + ")";
    }
    if (value instanceof CborDateTime) {
      var f = wallClock(value);
      var fields = f.slice(0, 5);
      if (f[5] || value.micro) fields.push(f[5]);
      if (value.micro) fields.push(value.micro);
      return "datetime.datetime(" + fields.join(", ") + ", tzinfo=" + pyTimezone(value.offset) + ")";
    }
    return String(value);
  }

  /** Python's str() of a decoded map key. */
  function pyStr(key) {
    if (typeof key === "string") return key;
    if (key instanceof CborSimple) return String(key.value);
    if (key instanceof CborDateTime) return pyDateTimeStr(key);
    if (key instanceof CborDate) return key.iso;
    return pyRepr(key);
  }

  /**
   * Decoded CBOR as plain JSON values, the way hcert.to_json does (NaN, infinities, numbers
   * beyond a double and values JSON has no form for are null). With `keepFloats`, integral
   * floats stay CborFloat (the status rules tell 2.0 from 2).
   */
  function toJson(value, keepFloats) {
    if (value instanceof Map) {
      var entries = new Map();
      value.forEach(function (item, key) {
        var name = pyStr(key);
        entries.set(name, toJson(item, keepFloats));
      });
      return Object.fromEntries(entries);
    }
    if (Array.isArray(value)) return value.map(function (item) { return toJson(item, keepFloats); });
    if (value instanceof CborDateTime) return isoOf(value);
    if (value instanceof CborDate) return value.iso;
    if (value instanceof Uint8Array) return hex(value);
    if (value instanceof CborTag) return toJson(value.value, keepFloats);
    if (value instanceof CborFloat) return keepFloats ? value : value.value;
    if (typeof value === "bigint") value = Number(value); // beyond a double's range: ±Infinity
    if (typeof value === "number") return Number.isFinite(value) ? value : null;
    if (typeof value === "string" || typeof value === "boolean") return value;
    return null; // null, undefined, CborSimple, Opaque: JSON has no form for them
  }

  // ---------------------------------------------------------------- JSON Schema (2020-12 subset)

  /** The keywords the validator applies, and those it reads as annotations only. */
  var SCHEMA_KEYWORDS = Object.freeze([
    "$ref", "type", "properties", "required", "items", "minItems", "maxItems", "minLength",
    "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "enum", "const", "oneOf", "anyOf", "allOf",
  ]);
  var SCHEMA_ANNOTATIONS = Object.freeze([
    "$schema", "$id", "$comment", "$defs", "title", "description", "examples", "format",
    "valueset-uri",
  ]);

  var patterns = new Map();

  /** A JSON-schema pattern as Python's re.search reads it: \d any Unicode decimal digit,
   * "." anything but a newline, "$" the end or before a final newline. */
  function pattern(source) {
    var compiled = patterns.get(source);
    if (compiled) return compiled;
    var out = "", inClass = false;
    for (var i = 0; i < source.length; i++) {
      var char = source.charAt(i);
      if (char === "\\") {
        var next = source.charAt(i + 1);
        i++;
        if (next === "d") out += "\\p{Nd}";
        else if (next === "D") out += "\\P{Nd}";
        else out += "\\" + next;
      } else if (inClass) {
        if (char === "]") inClass = false;
        out += char;
      } else if (char === "[") {
        inClass = true;
        out += char;
      } else if (char === ".") {
        out += "[^\\n]";
      } else if (char === "$") {
        out += "(?=\\n?$)";
      } else {
        out += char;
      }
    }
    compiled = new RegExp(out, "u");
    patterns.set(source, compiled);
    return compiled;
  }

  function jsonType(value) {
    if (value === null) return "null";
    if (value instanceof Opaque) return value.kind === "number" ? "number" : "opaque";
    if (Array.isArray(value)) return "array";
    if (typeof value === "bigint") return "integer";
    if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
    return typeof value; // string, boolean, object
  }

  function hasType(value, type) {
    var actual = jsonType(value);
    return actual === type || (type === "number" && actual === "integer");
  }

  function jsonEqual(a, b) {
    if (a === b) return true;
    if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    var keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every(function (key) {
      return Object.prototype.hasOwnProperty.call(b, key) && jsonEqual(a[key], b[key]);
    });
  }

  function resolve(rootSchema, ref) {
    if (ref.charAt(0) !== "#") throw new Error("unsupported $ref " + ref);
    var node = rootSchema;
    ref.slice(1).split("/").slice(1).forEach(function (part) {
      node = node[part.replace(/~1/g, "/").replace(/~0/g, "~")];
    });
    if (node === undefined) throw new Error("unresolvable $ref " + ref);
    return node;
  }

  /** The length of a text as Python counts it (code points, not UTF-16 units). */
  function codePoints(text) {
    var count = 0;
    for (var index = 0; index < text.length; index++) {
      var code = text.charCodeAt(index);
      if (code < 0xd800 || code > 0xdbff) count++;
    }
    return count;
  }

  /** Every error of `value` against `schema`, as "path: message" (empty when valid). */
  function schemaErrors(schema, value, rootSchema, path, errors) {
    if (schema === true) return errors;
    if (schema === false) { errors.push(path + ": not allowed"); return errors; }
    var own = Object.prototype.hasOwnProperty;
    var where = path || "(root)";
    if (own.call(schema, "$ref")) schemaErrors(resolve(rootSchema, schema.$ref), value, rootSchema, path, errors);
    if (own.call(schema, "type")) {
      var types = Array.isArray(schema.type) ? schema.type : [schema.type];
      if (!types.some(function (type) { return hasType(value, type); })) {
        errors.push(where + ": not of type " + types.join(", "));
      }
    }
    if (own.call(schema, "enum") && !schema.enum.some(function (item) { return jsonEqual(item, value); })) {
      errors.push(where + ": not one of the allowed values");
    }
    if (own.call(schema, "const") && !jsonEqual(schema.const, value)) {
      errors.push(where + ": not the required value");
    }
    var kind = jsonType(value);
    if (kind === "string") {
      var length = (own.call(schema, "maxLength") || own.call(schema, "minLength")) ? codePoints(value) : 0;
      if (own.call(schema, "maxLength") && length > schema.maxLength) errors.push(where + ": too long");
      if (own.call(schema, "minLength") && length < schema.minLength) errors.push(where + ": too short");
      if (own.call(schema, "pattern") && !pattern(schema.pattern).test(value)) {
        errors.push(where + ": does not match " + schema.pattern);
      }
    }
    if (kind === "integer" || kind === "number") {
      if (own.call(schema, "minimum") && value < schema.minimum) errors.push(where + ": below the minimum");
      if (own.call(schema, "maximum") && value > schema.maximum) errors.push(where + ": above the maximum");
      if (own.call(schema, "exclusiveMinimum") && value <= schema.exclusiveMinimum) errors.push(where + ": too small");
      if (own.call(schema, "exclusiveMaximum") && value >= schema.exclusiveMaximum) errors.push(where + ": too large");
    }
    if (kind === "array") {
      if (own.call(schema, "minItems") && value.length < schema.minItems) errors.push(where + ": too few items");
      if (own.call(schema, "maxItems") && value.length > schema.maxItems) errors.push(where + ": too many items");
      if (own.call(schema, "items")) {
        value.forEach(function (item, index) {
          schemaErrors(schema.items, item, rootSchema, path + (path ? "/" : "") + index, errors);
        });
      }
    }
    if (kind === "object") {
      if (own.call(schema, "required")) {
        schema.required.forEach(function (name) {
          if (!own.call(value, name)) errors.push(where + ": " + JSON.stringify(name) + " is required");
        });
      }
      if (own.call(schema, "properties")) {
        Object.keys(schema.properties).forEach(function (name) {
          if (own.call(value, name)) {
            schemaErrors(schema.properties[name], value[name], rootSchema, path + (path ? "/" : "") + name, errors);
          }
        });
      }
    }
    function passes(sub) { return schemaErrors(sub, value, rootSchema, path, []).length === 0; }
    if (own.call(schema, "allOf")) schema.allOf.forEach(function (sub) { schemaErrors(sub, value, rootSchema, path, errors); });
    if (own.call(schema, "anyOf") && !schema.anyOf.some(passes)) errors.push(where + ": matches none of anyOf");
    if (own.call(schema, "oneOf") && schema.oneOf.filter(passes).length !== 1) {
      errors.push(where + ": does not match exactly one of oneOf");
    }
    return errors;
  }

  // ---------------------------------------------------------------- schema.py

  /** schema._version: "major.minor.patch" in ASCII digits ("１.３.０" is no version). Numbers
   * too long for a double are approximate: they equal no release either way. */
  function version(text) {
    var parts = text.split(".");
    if (parts.length !== 3) return null;
    var out = [];
    for (var i = 0; i < 3; i++) {
      if (!/^[0-9]+$/.test(parts[i])) return null;
      var number = 0;
      for (var j = 0; j < parts[i].length; j++) number = number * 10 + (parts[i].charCodeAt(j) - 48);
      out.push(number);
    }
    return out;
  }

  function compareVersions(a, b) { return a[0] - b[0] || a[1] - b[1] || a[2] - b[2]; }

  /** The schema release that validates a payload of version `ver` (schema.release_for):
   * the release equal to it, else the newest with the same major.minor, else null. */
  function releaseFor(ver, rules) {
    var wanted = typeof ver === "string" ? version(ver) : null;
    if (!wanted) return null;
    var best = null, bestVersion = null;
    var names = Object.keys(rules.schemas);
    for (var i = 0; i < names.length; i++) {
      var known = version(names[i]);
      if (!known || known[0] !== wanted[0] || known[1] !== wanted[1]) continue;
      if (compareVersions(known, wanted) === 0) return names[i];
      if (!bestVersion || compareVersions(known, bestVersion) > 0) {
        best = names[i];
        bestVersion = known;
      }
    }
    return best;
  }

  function certificateType(dcc) {
    var present = CERTIFICATE_TYPES.filter(function (kind) {
      return Object.prototype.hasOwnProperty.call(dcc, kind);
    });
    return present.length === 1 ? present[0] : null;
  }

  function valueSets(rules) {
    var cached = valueSetCache.get(rules);
    if (!cached) {
      cached = {};
      Object.keys(rules.valuesets).forEach(function (name) { cached[name] = new Set(rules.valuesets[name]); });
      valueSetCache.set(rules, cached);
    }
    return cached;
  }
  var valueSetCache = new WeakMap();

  /** Every reason `dcc` is not a valid payload (schema.problems); empty when valid. */
  function schemaProblems(dcc, rules) {
    if (jsonType(dcc) !== "object") return ["payload is not a JSON object"];
    var release = releaseFor(dcc.ver, rules);
    if (release === null) return ["no schema release for ver " + JSON.stringify(dcc.ver)];
    var schema = rules.schemas[release];
    var found = schemaErrors(schema, dcc, schema, "", []);
    var kind = certificateType(dcc);
    if (kind === null) {
      found.push("exactly one of v, t, r must be present");
      return found;
    }
    var sets = valueSets(rules);
    var entries = Array.isArray(dcc[kind]) ? dcc[kind] : [];
    entries.forEach(function (entry, index) {
      if (jsonType(entry) !== "object") return;
      Object.keys(CODED_FIELDS[kind]).forEach(function (name) {
        var setName = CODED_FIELDS[kind][name];
        var value = Object.prototype.hasOwnProperty.call(entry, name) ? entry[name] : null;
        if (value !== null && !(typeof value === "string" && sets[setName].has(value))) {
          found.push(kind + "/" + index + "/" + name + ": " + JSON.stringify(value) +
            " is not in value set " + setName);
        }
      });
    });
    return found;
  }

  // ---------------------------------------------------------------- rules.dcc_status

  function dccStatus(dcc, rules) {
    var entries = dcc.v;
    if (!Array.isArray(entries) || !entries.length) return null;
    var entry = entries[entries.length - 1];
    if (jsonType(entry) !== "object") return null;
    var dn = entry.dn, sd = entry.sd;
    if (!isInt(dn) || !isInt(sd)) return null;
    dn = Number(pyInt(dn));
    sd = Number(pyInt(sd));
    if (dn < 1 || sd < 1) return null;
    if (dn < sd) return { status: "yellow", boosters: 0 };
    var key = typeof entry.mp === "string" ? entry.mp : pyStr(entry.mp);
    var series = Object.prototype.hasOwnProperty.call(rules.products, key)
      ? Math.min(sd, rules.products[key]) : sd;
    return { status: "green", boosters: dn - series };
  }

  // ---------------------------------------------------------------- COSE_Sign1 and keys

  var TAG_SIGN1 = 18, TAG_CWT = 61;

  function decodeSign1(bytes) {
    var item;
    try { item = cborDecode(bytes); } catch (error) { throw new DecodeError("not CBOR: " + error.message); }
    if (item instanceof CborTag && item.tag === TAG_CWT) item = item.value;
    if (item instanceof CborTag) {
      if (item.tag !== TAG_SIGN1) throw new DecodeError("unexpected CBOR tag " + item.tag + " (COSE_Sign1 is 18)");
      item = item.value;
    }
    if (!Array.isArray(item) || item.length !== 4) throw new DecodeError("COSE_Sign1 must be an array of 4 items");
    var protectedBytes = item[0], unprotected = item[1], payload = item[2], signature = item[3];
    if (!(protectedBytes instanceof Uint8Array)) throw new DecodeError("protected header must be a byte string");
    if (!(unprotected instanceof Map)) throw new DecodeError("unprotected header must be a map");
    if (!(payload instanceof Uint8Array) || !(signature instanceof Uint8Array)) {
      throw new DecodeError("payload and signature must be byte strings");
    }
    var protectedMap = new Map();
    if (protectedBytes.length) {
      try { protectedMap = cborDecode(protectedBytes); } catch (error) {
        throw new DecodeError("protected header is not CBOR: " + error.message);
      }
      if (!(protectedMap instanceof Map)) throw new DecodeError("protected header must encode a map");
    }
    var alg = pyGet(protectedMap, 1);
    var kid = null;
    [protectedMap, unprotected].some(function (header) {
      var value = pyGet(header, 4);
      if (value instanceof Uint8Array) { kid = value; return true; }
      return false;
    });
    return {
      protectedBytes: protectedBytes, payload: payload, signature: signature,
      alg: isInt(alg) ? alg : null, kid: kid,
    };
  }

  function algName(alg) {
    if (alg === null) return null;
    if (typeof alg === "boolean") return alg ? "True" : "False";
    return ALGORITHMS[String(alg)] || String(alg);
  }

  var keyCache = new WeakMap();

  function importKey(entry) {
    var cached = keyCache.get(entry);
    if (cached) return cached;
    var spki;
    try { spki = b64decode(entry.spki); } catch (error) { spki = null; }
    var algorithm = entry.kty === "EC" ? { name: "ECDSA", namedCurve: entry.crv }
      : entry.kty === "RSA" ? { name: "RSA-PSS", hash: "SHA-256" } : null;
    var promise = spki && algorithm
      ? crypto.subtle.importKey("spki", spki, algorithm, false, ["verify"]).catch(function () { return null; })
      : Promise.resolve(null);
    keyCache.set(entry, promise);
    return promise;
  }

  async function verifySignature(sign1, entry) {
    var data = sigStructure(sign1.protectedBytes, sign1.payload);
    var alg = typeof sign1.alg === "number" ? sign1.alg : null;
    if (alg === ALG_ES256) {
      if (entry.kty !== "EC" || entry.crv !== "P-256" || sign1.signature.length !== 64) return false;
      var ecKey = await importKey(entry);
      if (!ecKey) return false;
      return crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, ecKey, sign1.signature, data);
    }
    if (alg === ALG_PS256) {
      if (entry.kty !== "RSA") return false;
      var rsaKey = await importKey(entry);
      if (!rsaKey) return false;
      return crypto.subtle.verify({ name: "RSA-PSS", saltLength: 32 }, rsaKey, sign1.signature, data);
    }
    return false;
  }

  var kidCache = new WeakMap();

  function candidates(trust, kid) {
    var keys = (trust && Array.isArray(trust.keys)) ? trust.keys : [];
    if (kid === null) return [];
    return keys.filter(function (entry) {
      var decoded = kidCache.get(entry);
      if (!decoded) {
        try { decoded = b64decode(entry.kid); } catch (error) { decoded = new Uint8Array(0); }
        kidCache.set(entry, decoded);
      }
      return sameBytes(decoded, kid);
    });
  }

  // ---------------------------------------------------------------- the verifier

  function Verification() {
    this.stages = {};
    for (var i = 0; i < STAGES.length; i++) this.stages[STAGES[i]] = null;
    this.reasons = {};
    this.claims = null;
    this.kid = null;
    this.alg = null;
    this.signer = null;
  }

  Verification.prototype.fail = function (stage, reason) {
    this.stages[stage] = false;
    this.reasons[stage] = reason;
    return this;
  };

  Verification.prototype.valid = function () {
    var stages = this.stages;
    return stages.qr !== false && STAGES.slice(1).every(function (stage) { return stages[stage] === true; });
  };

  Verification.prototype.toJson = function (rules) {
    var valid = this.valid();
    var stages = this.stages;
    var failed = STAGES.find(function (stage) { return stages[stage] === false; }) || null;
    var claims = this.claims;
    var progress = valid && claims ? dccStatus(claims.exactDcc, rules) : null;
    return {
      valid: valid,
      status: progress ? progress.status : null,
      boosters: progress ? progress.boosters : null,
      payload: claims ? claims.dcc : null,
      stages: Object.assign({}, stages),
      failed_stage: failed,
      reason: failed === null ? null : (this.reasons[failed] || ""),
      kid: this.kid === null ? null : hex(this.kid),
      alg: algName(this.alg),
      issuer: claims ? claims.issuer : null,
      issued_at: claims ? isoSeconds(claims.issuedAt) : null,
      expires_at: claims ? isoSeconds(claims.expiresAt) : null,
    };
  };

  function isoSeconds(seconds) {
    if (seconds === null) return null;
    if (seconds < MIN_SECONDS || seconds > MAX_SECONDS) return null;
    return isoOf(new CborDateTime(Number(seconds), 0));
  }

  /** hcert._seconds: an int or float claim as whole seconds (Number or BigInt), else null. */
  function claimSeconds(value) {
    if (typeof value === "boolean") return null;
    if (value instanceof CborFloat) return value.value;
    if (typeof value === "bigint") return value;
    if (typeof value === "number") {
      // NaN and infinities are no claim (hcert._seconds)
      return Number.isFinite(value) ? Math.trunc(value) : null;
    }
    return null;
  }

  function decodeClaims(payload) {
    var claims;
    try { claims = cborDecode(payload); } catch (error) { throw new DecodeError("payload is not CBOR: " + error.message); }
    if (!(claims instanceof Map)) throw new DecodeError("CWT claims must be a map");
    var hcert = pyGet(claims, -260);
    var dcc = hcert instanceof Map ? pyGet(hcert, 1) : undefined;
    if (!(dcc instanceof Map)) throw new DecodeError("claim -260 must hold {1: <DCC map>}");
    var issuer = pyGet(claims, 1);
    return {
      issuer: typeof issuer === "string" ? issuer : null,
      issuedAt: claimSeconds(pyGet(claims, 6)),
      expiresAt: claimSeconds(pyGet(claims, 4)),
      dcc: toJson(dcc, false),
      exactDcc: toJson(dcc, true),
    };
  }

  function keyUsageProblem(signer, dcc) {
    var kind = certificateType(dcc);
    if (kind === null) return "the certificate type (v, t or r) is ambiguous";
    var usages = signer.usages;
    if (Array.isArray(usages) && usages.indexOf(kind) < 0) {
      return "the signer's extended key usage does not cover type '" + kind + "'";
    }
    return null;
  }

  async function checkSignature(sign1, trust, result) {
    if (sign1.alg === null || typeof sign1.alg !== "number" ||
        (sign1.alg !== ALG_ES256 && sign1.alg !== ALG_PS256)) {
      result.fail("signature", "no supported alg (ES256, PS256) in the protected header");
      return;
    }
    var found = candidates(trust, sign1.kid);
    if (!found.length) {
      result.fail("signature", "no trusted signer with kid " + (sign1.kid === null ? "none" : hex(sign1.kid)));
      return;
    }
    for (var i = 0; i < found.length; i++) {
      var ok = false;
      try { ok = await verifySignature(sign1, found[i]); } catch (error) { ok = false; }
      if (ok) {
        result.signer = found[i];
        result.stages.signature = true;
        return;
      }
    }
    result.fail("signature", "the signature does not verify with the trusted key");
  }

  function clockSeconds(now) {
    var millis = now instanceof Date ? now.getTime() : Number(now);
    return Math.trunc(millis / 1000);
  }

  async function coseStages(bytes, options, result) {
    var sign1;
    try { sign1 = decodeSign1(bytes); } catch (error) { return result.fail("cose", errorText(error)); }
    result.stages.cose = true;
    result.kid = sign1.kid;
    result.alg = sign1.alg;

    await checkSignature(sign1, options.trust, result);

    var claims;
    try { claims = decodeClaims(sign1.payload); } catch (error) { return result.fail("cbor", errorText(error)); }
    result.claims = claims;
    result.stages.cbor = true;

    if (result.signer !== null) {
      var problem = keyUsageProblem(result.signer, claims.dcc);
      if (problem) result.fail("key_usage", problem);
      else result.stages.key_usage = true;
    }

    var clock = clockSeconds(options.now);
    if (!Number.isFinite(clock)) {
      result.fail("expiry", "the clock (now) is not a valid time");
    } else if (claims.issuedAt === null || claims.expiresAt === null) {
      result.fail("expiry", "issued-at and expiry claims are required");
    } else if (clock < claims.issuedAt) {
      result.fail("expiry", "not valid before " + isoSeconds(claims.issuedAt));
    } else if (clock > claims.expiresAt) {
      result.fail("expiry", "expired at " + isoSeconds(claims.expiresAt));
    } else {
      result.stages.expiry = true;
    }

    var found;
    try { found = schemaProblems(claims.dcc, options.rules); } catch (error) { found = [errorText(error)]; }
    if (found.length) result.fail("schema", found.slice(0, 5).join("; "));
    else result.stages.schema = true;
    return result;
  }

  var NO_RULES = Object.freeze({ schemas: {}, valuesets: {}, products: {} });

  function optionsOf(options) {
    options = options || {};
    var rules = options.rules || NO_RULES;
    if (!rules.schemas || !rules.valuesets || !rules.products) rules = NO_RULES;
    return { trust: options.trust || { keys: [] }, rules: rules, now: options.now || new Date() };
  }

  /** Verify the text of a certificate QR (every stage from `prefix` on). */
  async function verifyText(text, options) {
    var opts = optionsOf(options);
    var result = new Verification();
    try {
      if (typeof text !== "string") return result.fail("prefix", "the input is not text").toJson(opts.rules);
      var stripped = pyStrip(text);
      if (stripped.slice(0, PREFIX.length) !== PREFIX) {
        return result.fail("prefix", "text does not start with 'HC1:'").toJson(opts.rules);
      }
      result.stages.prefix = true;
      var compressed;
      try { compressed = base45decode(stripped.slice(PREFIX.length)); } catch (error) {
        return result.fail("base45", errorText(error)).toJson(opts.rules);
      }
      result.stages.base45 = true;
      var message;
      try { message = await inflate(compressed); } catch (error) {
        return result.fail("zlib", errorText(error)).toJson(opts.rules);
      }
      result.stages.zlib = true;
      await coseStages(message, opts, result);
    } catch (error) {
      // not expected: report it on the first stage not decided rather than throw
      var open = STAGES.slice(1).find(function (stage) { return result.stages[stage] === null; });
      result.fail(open || "schema", "internal error: " + errorText(error));
    }
    return result.toJson(opts.rules);
  }

  /** Verify the bytes of a COSE_Sign1 message (the stages from `cose` on). */
  async function verifyCose(bytes, options) {
    var opts = optionsOf(options);
    var result = new Verification();
    try {
      if (!(bytes instanceof Uint8Array)) bytes = new Uint8Array(bytes);
      await coseStages(bytes, opts, result);
    } catch (error) {
      var open = STAGES.slice(4).find(function (stage) { return result.stages[stage] === null; });
      result.fail(open || "schema", "internal error: " + errorText(error));
    }
    return result.toJson(opts.rules);
  }

  root.VaxVerifier = Object.freeze({
    verifyText: verifyText,
    verifyCose: verifyCose,
    base45decode: base45decode,
    inflate: inflate,
    cborDecode: cborDecode,
    STAGES: STAGES,
    // for tests and tools
    toJson: function (value) { return toJson(value, false); },
    schemaProblems: schemaProblems,
    schemaErrors: function (schema, value) { return schemaErrors(schema, value, schema, "", []); },
    pythonRegExp: pattern,
    SCHEMA_KEYWORDS: SCHEMA_KEYWORDS,
    SCHEMA_ANNOTATIONS: SCHEMA_ANNOTATIONS,
    CborTag: CborTag,
    CborFloat: CborFloat,
    CborSimple: CborSimple,
    CborDateTime: CborDateTime,
  });
})(globalThis);
