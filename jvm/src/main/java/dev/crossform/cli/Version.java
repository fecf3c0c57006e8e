package dev.crossform.cli;

/** The scorer's version, reported by Serve and Score. */
final class Version {
    static final String VERSION = "0.1.0";

    private Version() {}
}
