package io.twostep.testing

/**
 * Just enough JSON for the tests' admin calls: a parser into maps, lists, strings, numbers,
 * booleans and null, and an encoder for flat request bodies. (No JSON library ships with
 * the Kotlin compiler, and the tests should not need a download.)
 */
object Json {
    fun parse(text: String): Any? = Parser(text).run { value().also { skipSpace(); check(pos == text.length) { "trailing data at $pos" } } }

    fun encode(value: Any?): String = when (value) {
        null -> "null"
        is String -> buildString {
            append('"')
            for (c in value) {
                when {
                    c == '"' -> append("\\\"")
                    c == '\\' -> append("\\\\")
                    c < ' ' -> append("\\u%04x".format(c.code))
                    else -> append(c)
                }
            }
            append('"')
        }
        is Boolean, is Int, is Long -> value.toString()
        is Map<*, *> -> value.entries.joinToString(",", "{", "}") { (k, v) -> encode(k as String) + ":" + encode(v) }
        is List<*> -> value.joinToString(",", "[", "]") { encode(it) }
        else -> error("cannot encode ${value::class}")
    }

    private class Parser(val s: String) {
        var pos = 0

        fun skipSpace() {
            while (pos < s.length && s[pos].isWhitespace()) pos++
        }

        fun value(): Any? {
            skipSpace()
            check(pos < s.length) { "unexpected end" }
            return when (s[pos]) {
                '{' -> obj()
                '[' -> arr()
                '"' -> str()
                't' -> literal("true", true)
                'f' -> literal("false", false)
                'n' -> literal("null", null)
                else -> num()
            }
        }

        fun literal(word: String, result: Any?): Any? {
            check(s.startsWith(word, pos)) { "bad literal at $pos" }
            pos += word.length
            return result
        }

        fun obj(): Map<String, Any?> {
            val out = LinkedHashMap<String, Any?>()
            pos++
            skipSpace()
            if (s[pos] == '}') return out.also { pos++ }
            while (true) {
                skipSpace()
                val key = str()
                skipSpace()
                check(s[pos++] == ':') { "expected : at $pos" }
                out[key] = value()
                skipSpace()
                when (s[pos++]) {
                    ',' -> continue
                    '}' -> return out
                    else -> error("expected , or } at $pos")
                }
            }
        }

        fun arr(): List<Any?> {
            val out = ArrayList<Any?>()
            pos++
            skipSpace()
            if (s[pos] == ']') return out.also { pos++ }
            while (true) {
                out.add(value())
                skipSpace()
                when (s[pos++]) {
                    ',' -> continue
                    ']' -> return out
                    else -> error("expected , or ] at $pos")
                }
            }
        }

        fun str(): String {
            check(s[pos++] == '"') { "expected string at $pos" }
            val out = StringBuilder()
            while (true) {
                val c = s[pos++]
                when (c) {
                    '"' -> return out.toString()
                    '\\' -> when (val e = s[pos++]) {
                        'n' -> out.append('\n')
                        't' -> out.append('\t')
                        'r' -> out.append('\r')
                        'b' -> out.append('\b')
                        'f' -> out.append('\u000c')
                        'u' -> out.append(s.substring(pos, pos + 4).toInt(16).toChar()).also { pos += 4 }
                        else -> out.append(e)
                    }
                    else -> out.append(c)
                }
            }
        }

        fun num(): Number {
            val start = pos
            while (pos < s.length && (s[pos].isDigit() || s[pos] in "+-.eE")) pos++
            val text = s.substring(start, pos)
            return text.toLongOrNull() ?: text.toDouble()
        }
    }
}

/** `json["a"]["b"]`-style access for parsed JSON. */
@Suppress("UNCHECKED_CAST")
operator fun Any?.get(key: String): Any? = (this as? Map<String, Any?>)?.get(key)
