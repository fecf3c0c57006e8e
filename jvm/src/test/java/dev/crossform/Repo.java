package dev.crossform;

import java.nio.file.Path;

/** Where the repository is: the crossform.repo property jvm/build.sh sets, else the parent of jvm/. */
final class Repo {
    private Repo() {}

    static Path root() {
        String property = System.getProperty("crossform.repo");
        return property != null ? Path.of(property) : Path.of("..").toAbsolutePath().normalize();
    }
}
