package dev.octet.gpu;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Finding NCCL, where it cannot be found: the answer is one line that says what to do. */
class NcclTest {

    @Test
    void aLibraryFileThatDoesNotLoadIsNamedInOneLine() {
        Nccl.Availability availability = Nccl.probe(Map.of(Nccl.LIBRARY_ENV, "/nonexistent/libnccl.so.2"));
        Nccl.Availability.Unavailable why = assertInstanceOf(Nccl.Availability.Unavailable.class, availability);
        assertEquals("OCTET_NCCL_LIBRARY=/nonexistent/libnccl.so.2 cannot be loaded (no such file, or not a shared library)",
                why.reason());
    }

    @Test
    void withoutTheVariableTheLinkersLibraryIsTriedAndAMissingOneIsExplained() {
        Nccl.Availability availability = Nccl.probe(Map.of());
        if (availability instanceof Nccl.Availability.Available available) {
            // A machine with NCCL on its library path: then it must report a real version.
            assertTrue(available.nccl().version() >= 20000, available.nccl().versionName());
        } else {
            String reason = ((Nccl.Availability.Unavailable) availability).reason();
            assertTrue(reason.startsWith("libnccl.so.2 cannot be loaded"), reason);
            assertTrue(reason.contains(Nccl.LIBRARY_ENV) && !reason.contains("\n"), reason);
        }
    }
}
