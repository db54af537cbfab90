package dev.octet.dsl.check;

import dev.octet.dsl.ast.Import;
import dev.octet.dsl.ast.SourceFile;
import dev.octet.dsl.ast.SourcePos;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.parse.SourceParser;
import dev.octet.dsl.spec.Program;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Reads .octet files and what they import (each file once, cycles allowed), parses and checks them together. */
public final class ProgramLoader {
    /** A .octet file is a page of text; anything this large is not one. */
    static final long MAX_FILE_BYTES = 4L << 20;

    private ProgramLoader() {}

    /** Loads the given files; paths that do not exist must have been rejected by the caller (a usage error). */
    public static Program load(List<Path> roots, Diagnostics diagnostics) {
        List<SourceFile> files = new ArrayList<>();
        Set<Path> seen = new LinkedHashSet<>();
        Deque<Path> queue = new ArrayDeque<>();
        for (Path p : roots) {
            Path n = p.toAbsolutePath().normalize();
            if (seen.add(n)) {
                queue.add(p);
            }
        }
        while (!queue.isEmpty()) {
            Path path = queue.poll();
            String text;
            try {
                text = read(path);
            } catch (IOException e) {
                diagnostics.error(new SourcePos(path.toString(), 1, 1, 1), "cannot read " + path + ": " + e.getMessage());
                continue;
            }
            SourceFile file = SourceParser.parse(path, text, diagnostics);
            files.add(file);
            for (Import imp : file.imports()) {
                Path target = resolve(path, imp.path());
                if (!Files.isRegularFile(target)) {
                    diagnostics.error(imp.pos(), "imported file \"" + imp.path() + "\" does not exist",
                            "paths are relative to the importing file: looked for " + target);
                } else if (seen.add(target.toAbsolutePath().normalize())) {
                    queue.add(target);
                }
            }
        }
        return ProgramChecker.check(files, diagnostics);
    }

    private static Path resolve(Path from, String imported) {
        Path dir = from.toAbsolutePath().getParent();
        Path target = dir == null ? Path.of(imported) : dir.resolve(imported);
        Path rel = Path.of("").toAbsolutePath().relativize(target.normalize());
        return rel.toString().isEmpty() ? target : rel;
    }

    /** UTF-8 text; undecodable bytes become U+FFFD and then a syntax error, never an exception. */
    private static String read(Path path) throws IOException {
        long size = Files.size(path);
        if (size > MAX_FILE_BYTES) {
            throw new IOException("file is " + size + " bytes; an .octet file is at most " + MAX_FILE_BYTES);
        }
        byte[] bytes = Files.readAllBytes(path);
        return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE)
                .decode(ByteBuffer.wrap(bytes)).toString();
    }
}
