package io.twostep.testing

import org.junit.jupiter.api.Assertions.fail

/** Runs [block] and returns the exception of type [T] it throws; fails on anything else. */
suspend inline fun <reified T : Throwable> assertThrowsSuspend(block: suspend () -> Unit): T {
    try {
        block()
    } catch (e: Throwable) {
        if (e is T) return e
        fail<Unit>("expected ${T::class.simpleName}, got ${e::class.qualifiedName}: $e", e)
    }
    fail<Unit>("expected ${T::class.simpleName}, nothing was thrown")
    throw IllegalStateException("unreachable")
}
