package io.twostep.testing

import java.io.File
import java.net.URI
import java.util.concurrent.TimeUnit

/**
 * HTTPS in front of the real server: the `twostep-tls-terminator` binary of the Rust test
 * harness (`tests/src/bin/tls_terminator.rs`) makes a CA, writes its certificate to [caOut],
 * and accepts TLS on 127.0.0.1 with a certificate from it, forwarding to the server.
 *
 * The binary comes from the system property `twostep.tlsTerminator` (set by
 * `scripts/test-kotlin.sh`), else `target/debug/twostep-tls-terminator`.
 */
class TlsTerminator private constructor(private val process: Process, val url: String) : AutoCloseable {
    companion object {
        /** Starts one in front of [upstream] (`http://127.0.0.1:PORT`). */
        fun start(upstream: String, caOut: File): TlsTerminator {
            val binary = File(System.getProperty("twostep.tlsTerminator") ?: "target/debug/twostep-tls-terminator").absoluteFile
            require(binary.canExecute()) { "no TLS terminator at $binary" }
            val authority = URI(upstream).authority
            val process = ProcessBuilder(binary.path, "--upstream", authority, "--ca-out", caOut.path)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start()
            val url = process.inputStream.bufferedReader().readLine()
            if (url == null || !url.startsWith("https://")) {
                process.destroyForcibly()
                error("the TLS terminator did not start: $url")
            }
            return TlsTerminator(process, url)
        }
    }

    override fun close() {
        process.outputStream.close() // it stops when its stdin closes
        if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly()
    }
}
