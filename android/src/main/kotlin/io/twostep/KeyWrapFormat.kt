package io.twostep

/**
 * The byte layout of a wrapped data key, shared by [MemoryKeyStore] and the Android
 * Keystore store: `version (1) | nonce (12) | AES-256-GCM ciphertext + tag (16)`, with the
 * core's key label as associated data.
 */
internal object KeyWrapFormat {
    const val VERSION: Byte = 1
    const val NONCE_BYTES = 12
    const val TAG_BITS = 128
    private const val TAG_BYTES = TAG_BITS / 8

    /** Associated data binding a wrapped key to its label. */
    fun aad(label: String): ByteArray = "twostep/platform-wrap/v1/$label".toByteArray(Charsets.UTF_8)

    fun encode(nonce: ByteArray, ciphertext: ByteArray): ByteArray {
        require(nonce.size == NONCE_BYTES) { "nonce must have $NONCE_BYTES bytes" }
        return byteArrayOf(VERSION) + nonce + ciphertext
    }

    /** Splits a wrapped value into nonce and ciphertext, or returns null if it is malformed. */
    fun decode(wrapped: ByteArray): Pair<ByteArray, ByteArray>? {
        if (wrapped.size < 1 + NONCE_BYTES + TAG_BYTES || wrapped[0] != VERSION) return null
        return wrapped.copyOfRange(1, 1 + NONCE_BYTES) to wrapped.copyOfRange(1 + NONCE_BYTES, wrapped.size)
    }
}
