package dev.octet.tune;

import java.nio.file.Path;

/** The HTML report beside a tuned recipe: {@code tuned.octet} → {@code tuned.html}. */
public final class TuneReportName {
    private TuneReportName() {}

    public static String of(Path recipe) {
        String name = recipe.getFileName().toString();
        return (name.endsWith(".octet") ? name.substring(0, name.length() - ".octet".length()) : name) + ".html";
    }

    public static Path beside(Path recipe) {
        Path parent = recipe.toAbsolutePath().normalize().getParent();
        return parent.resolve(of(recipe));
    }
}
