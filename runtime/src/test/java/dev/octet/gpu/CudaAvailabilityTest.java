package dev.octet.gpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class CudaAvailabilityTest {

    private static boolean driverInstalled() {
        return ForeignLibrary.open(CudaAvailability.DRIVER_LIBRARY).isPresent();
    }

    @Test
    void withoutDriverTheProbeSaysUnavailableInOneLine() {
        assumeTrue(!driverInstalled(), "this machine has an NVIDIA driver");
        CudaAvailability result = CudaAvailability.probe();
        CudaAvailability.Unavailable why = assertInstanceOf(CudaAvailability.Unavailable.class, result);
        assertTrue(why.reason().contains("libcuda.so.1"), why.reason());
        assertFalse(why.reason().contains("\n"));
    }

    @Test
    void aMissingLibraryIsAReasonNotAnException() {
        CudaAvailability result = CudaAvailability.probe("libno-such-cuda-driver.so.1");
        CudaAvailability.Unavailable why = assertInstanceOf(CudaAvailability.Unavailable.class, result);
        assertTrue(why.reason().startsWith("libno-such-cuda-driver.so.1 cannot be loaded"), why.reason());
    }

    @Test
    void aLibraryThatIsNotADriverIsAReasonNotAnException() {
        // libc loads but has no cuInit: the probe must still answer, not throw.
        CudaAvailability result = CudaAvailability.probe("libc.so.6");
        CudaAvailability.Unavailable why = assertInstanceOf(CudaAvailability.Unavailable.class, result);
        assertTrue(why.reason().contains("cuInit"), why.reason());
        assertFalse(why.reason().contains("\n"));
    }

    @Test
    void reasonsAreFoldedToOneLine() {
        assertTrue(new CudaAvailability.Unavailable("first\n  second\r\nthird").reason()
                .equals("first second third"));
    }

    @Test
    void openingAContextWithoutDriverFailsWithTheReasonNotALinkError() {
        assumeTrue(!driverInstalled(), "this machine has an NVIDIA driver");
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> CudaContext.open(0));
        assertTrue(e.getMessage().startsWith("CUDA is not available: libcuda.so.1"), e.getMessage());
        assertThrows(CudaUnavailableException.class, ForeignDriver::open);
    }
}
