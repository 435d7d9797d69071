/*
 * Compiled against the generated C header (TwostepFFIC.h) and linked with the static
 * library by scripts/check-swift.sh: proves that the header the Swift bindings import
 * declares what the library exports, and makes one real call through it.
 */
#include <stdio.h>
#include <string.h>

#include "TwostepFFIC.h"

int main(void) {
    uint32_t contract = ffi_twostep_ffi_uniffi_contract_version();
    uint16_t sign_in = uniffi_twostep_ffi_checksum_method_twostep_sign_in();
    uint16_t open = uniffi_twostep_ffi_checksum_constructor_twostep_open();

    RustCallStatus status;
    memset(&status, 0, sizeof status);
    RustBuffer version = uniffi_twostep_ffi_fn_func_library_version(&status);
    if (status.code != 0) {
        fprintf(stderr, "library_version failed with status %d\n", status.code);
        return 1;
    }
    printf("header check: contract %u, checksums sign_in=%u open=%u, library_version=\"%.*s\"\n", contract, sign_in, open,
           (int)version.len, (const char *)version.data);
    ffi_twostep_ffi_rustbuffer_free(version, &status);
    return status.code == 0 && version.len > 0 ? 0 : 1;
}
