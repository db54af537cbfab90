package dev.octet.cli;

import picocli.CommandLine;

/** The version from the jar's manifest, or "development" when run from classes. */
final class OctetVersion implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = OctetMain.class.getPackage().getImplementationVersion();
        return new String[] {"octet " + (v == null ? "development" : v) + " (Java " + Runtime.version() + ")"};
    }
}
