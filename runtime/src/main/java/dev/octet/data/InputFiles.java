package dev.octet.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/** Opening input text: a name ending in {@code .gz} is gunzipped; text is UTF-8, and malformed bytes are an error. */
public final class InputFiles {
    private InputFiles() {}

    public static boolean isJsonl(Path file) {
        String name = file.getFileName().toString();
        return name.endsWith(".jsonl") || name.endsWith(".jsonl.gz");
    }

    /** {@code raw}, decompressed when {@code file}'s name ends in .gz. */
    public static InputStream decompressed(Path file, InputStream raw) throws IOException {
        return file.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
    }

    public static BufferedReader reader(Path file, InputStream raw) throws IOException {
        var decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        return new BufferedReader(new InputStreamReader(decompressed(file, raw), decoder), 1 << 16);
    }

    public static BufferedReader reader(Path file) throws IOException {
        return reader(file, Files.newInputStream(file));
    }
}
