package dev.octet.cli;

import picocli.CommandLine;

/** The version from the jar's manifest, or "development" when run from classes. */
final class OctetVersion implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        return new String[] {"octet " + dev.octet.Version.current() + " (Java " + Runtime.version() + ")"};
    }
}
