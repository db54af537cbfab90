package dev.octet;

/** Octet's version: the jar manifest's, or "development" when running from classes. */
public final class Version {
    private Version() {}

    public static String current() {
        String v = Version.class.getPackage().getImplementationVersion();
        return v == null ? "development" : v;
    }
}
