package io.twostep.testing

import java.io.File
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.time.Duration
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger

/**
 * The real `twostep-server` binary on 127.0.0.1 with a fresh data directory, the first
 * operator created with the one-time setup token the server prints, and the admin and
 * self-service HTTP calls the tests need (the same steps as the Rust harness in
 * `tests/src/lib.rs`). Email codes are read from the server's outbox directory.
 *
 * The binary comes from the system property `twostep.server` (set by
 * `scripts/test-kotlin.sh`), else `target/debug/twostep-server`.
 */
class TestServer private constructor(val root: File) : AutoCloseable {
    val dataDir = File(root, "server")
    private val log = File(root, "server.log")
    private var process: Process? = null
    private var port = 0
    private var operatorToken = ""
    private val http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()

    /** `http://127.0.0.1:PORT`, stable across [stop] and [start]. */
    val url: String get() = "http://127.0.0.1:$port"

    companion object {
        const val OPERATOR = "operator"
        const val OPERATOR_PASSWORD = "operator-password-1"
        private val names = AtomicInteger()

        /** Starts a server and creates the first operator. */
        fun start(): TestServer {
            val server = TestServer(Files.createTempDirectory("twostep-kotlin-").toFile())
            try {
                val token = server.launch(0) ?: error("a fresh server prints a setup token")
                server.call("POST", "/v1/admin/bootstrap", body = mapOf("setup_token" to token, "username" to OPERATOR, "password" to OPERATOR_PASSWORD))
                    .expect(201, "bootstrap")
                server.operatorSignIn()
                return server
            } catch (e: Throwable) {
                server.close()
                throw e
            }
        }

        /** A name no other test in this run uses (users and orgs live on one server). */
        fun unique(prefix: String): String = "$prefix${names.incrementAndGet()}"

        private val binary: File
            get() = File(System.getProperty("twostep.server") ?: "target/debug/twostep-server").absoluteFile
    }

    /** Starts the process on [listenPort] (0: any) and returns the setup token, if printed. */
    private fun launch(listenPort: Int): String? {
        check(binary.canExecute()) { "no server binary at $binary (cargo build -p twostep-server)" }
        log.delete()
        val builder = ProcessBuilder(binary.path, "serve", "--listen", "127.0.0.1:$listenPort", "--data-dir", dataDir.path)
            .redirectErrorStream(true)
            .redirectOutput(log)
        builder.environment()["TWOSTEP_HASH_THREADS"] = "2"
        builder.environment()["TWOSTEP_LOG"] = "warn"
        val started = builder.start()
        process = started
        // Never leave a server behind, even when the JVM exits without closing this.
        Runtime.getRuntime().addShutdownHook(Thread { started.destroyForcibly() })
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30)
        val listening = Regex("listening on http://127\\.0\\.0\\.1:(\\d+)")
        while (System.nanoTime() < deadline) {
            val text = if (log.exists()) log.readText() else ""
            val found = listening.find(text)
            if (found != null) {
                port = found.groupValues[1].toInt()
                // The setup token, when there is one, is printed in the same write as the address.
                return Regex("\"setup_token\":\"([^\"\\\\]+)\"").find(text)?.groupValues?.get(1)
            }
            check(process?.isAlive == true) { "the server exited:\n$text" }
            Thread.sleep(20)
        }
        error("the server did not start in time:\n${log.readText()}")
    }

    /** Stops the server (clients then see it as down); the data directory stays. */
    fun stop() {
        process?.let {
            it.destroy()
            if (!it.waitFor(10, TimeUnit.SECONDS)) it.destroyForcibly().waitFor()
        }
        process = null
    }

    /** Starts the stopped server again on the same port and data directory. */
    fun restart() {
        stop()
        var last: Throwable? = null
        repeat(50) {
            try {
                launch(port)
                operatorSignIn()
                return
            } catch (e: IllegalStateException) {
                last = e
                stop()
                Thread.sleep(100)
            }
        }
        throw IllegalStateException("the server did not restart", last)
    }

    override fun close() {
        stop()
        root.deleteRecursively()
    }

    /** A fresh directory for one client's data. */
    fun clientDir(name: String): File = File(root, "clients/$name").also { it.mkdirs() }

    // ---- HTTP -------------------------------------------------------------------------

    class Reply(val status: Int, val body: Any?) {
        fun expect(status: Int, what: String): Reply {
            check(this.status == status) { "$what: HTTP ${this.status} ${Json.encode(body)}" }
            return this
        }
    }

    fun call(method: String, path: String, token: String? = null, body: Map<String, Any?>? = null): Reply {
        val request = HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(30))
            .method(method, body?.let { HttpRequest.BodyPublishers.ofString(Json.encode(it)) } ?: HttpRequest.BodyPublishers.noBody())
            .header("content-type", "application/json")
        token?.let { request.header("authorization", "Bearer $it") }
        val response = http.send(request.build(), HttpResponse.BodyHandlers.ofString())
        val text = response.body()
        return Reply(response.statusCode(), if (text.isBlank()) null else Json.parse(text))
    }

    private fun admin(method: String, path: String, body: Map<String, Any?>? = null) = call(method, path, operatorToken, body)

    private fun operatorSignIn() {
        val reply = call("POST", "/v1/admin/signin", body = mapOf("username" to OPERATOR, "password" to OPERATOR_PASSWORD))
        operatorToken = reply.expect(200, "operator sign-in").body["token"] as String
    }

    // ---- operators --------------------------------------------------------------------

    fun createOrg(name: String, requireTwoStep: Boolean) {
        admin("POST", "/v1/admin/orgs", mapOf("name" to name, "policy" to mapOf("require_two_step" to requireTwoStep))).expect(201, "create org")
    }

    fun setPolicy(org: String, update: Map<String, Any?>) {
        admin("PATCH", "/v1/admin/orgs/$org/policy", update).expect(200, "set policy")
    }

    fun createUser(org: String, username: String, password: String) {
        admin("POST", "/v1/admin/orgs/$org/users", mapOf("username" to username, "password" to password)).expect(201, "create user")
    }

    fun revokeDevices(username: String) {
        admin("DELETE", "/v1/admin/users/$username/devices").expect(200, "revoke devices")
    }

    // ---- users ------------------------------------------------------------------------

    /**
     * Configures email as the user's second step over HTTP, as they would on the web
     * portal: a web sign-in (a setup-only session under the org policy), the address, then
     * the code from the outbox.
     */
    fun enrollEmail(username: String, password: String, email: String) {
        val signIn = call("POST", "/v1/signin", body = mapOf("username" to username, "password" to password, "client" to "web"))
            .expect(200, "web sign-in").body
        val token = when (signIn["status"]) {
            "session" -> signIn["token"]
            "setup_required" -> signIn["session"]["token"]
            else -> error("web sign-in of $username wants a code; enroll before another channel exists")
        } as String
        call("POST", "/v1/me/two-step/email", token, mapOf("email" to email)).expect(200, "enroll email")
        val code = latestCode(email) ?: error("no confirmation code for $email in the outbox")
        call("POST", "/v1/me/two-step/email/confirm", token, mapOf("code" to code)).expect(200, "confirm email")
    }

    /** The newest code the server sent to [destination] (outbox files sort by time). */
    fun latestCode(destination: String): String? {
        val files = File(dataDir, "outbox").listFiles { f -> f.name.endsWith(".json") && !f.name.startsWith(".") }.orEmpty()
        return files.sortedBy { it.name }.map { Json.parse(it.readText()) }.lastOrNull { it["to"] == destination }?.get("code") as String?
    }
}
