package dev.crossform;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.io.ByteArrayOutputStream;

/**
 * The files of a directory package, read as untrusted: plain relative paths only, no links,
 * no special files, each file read by the size it reports (plus one byte to notice growth),
 * up to a cap.
 */
final class PackageFiles {
    /** The largest file read, as the Python reader caps it. */
    public static final long MAX_FILE_BYTES = 1L << 31;

    private final Path root;

    private PackageFiles(Path root) {
        this.root = root;
    }

    public static PackageFiles open(Path root) throws PackageException {
        String where = root.toString();
        if (where.indexOf('\0') >= 0) {
            throw new PackageException.Unsafe(where.replace('\0', '?'), "a package path cannot hold a NUL character");
        }
        BasicFileAttributes attributes = attributes(root, where);
        if (attributes == null) {
            throw new PackageException.Malformed(where, "no such package directory");
        }
        if (attributes.isSymbolicLink()) {
            throw new PackageException.Unsafe(where, "expected a directory, found a symbolic link");
        }
        if (!attributes.isDirectory()) {
            throw new PackageException.Malformed(where, "expected a package directory (stripe-json), found a file");
        }
        return new PackageFiles(root);
    }

    /** How a file inside the package is named in errors. */
    public String where(String relative) {
        return root.resolve(relative).toString();
    }

    public Path root() {
        return root;
    }

    public boolean exists(String relative) {
        return Files.exists(root.resolve(relative), LinkOption.NOFOLLOW_LINKS);
    }

    public byte[] read(String relative) throws PackageException {
        String where = where(relative);
        checkRelative(relative, where);
        Path path = root;
        for (String part : relative.split("/")) {
            path = path.resolve(part);
            BasicFileAttributes attributes = attributes(path, where);
            if (attributes == null) {
                throw new PackageException.Malformed(where, "the file is missing from the package");
            }
            if (attributes.isSymbolicLink()) {
                throw new PackageException.Unsafe(where, "expected a regular file, found a symbolic link (" + path + ")");
            }
        }
        BasicFileAttributes attributes = attributes(path, where);
        if (!attributes.isRegularFile()) {
            throw new PackageException.Unsafe(
                    where, "expected a regular file, found " + (attributes.isDirectory() ? "a directory" : "a special file (device, FIFO or socket)"));
        }
        return readRegular(path, where, attributes.size());
    }

    /**
     * A file package (protobuf) as untrusted bytes: a regular file, not a link or a special file,
     * at most {@link #MAX_FILE_BYTES}, its size checked before anything is read.
     */
    public static byte[] readFile(Path file) throws PackageException {
        String where = file.toString();
        if (where.indexOf('\0') >= 0) {
            throw new PackageException.Unsafe(where.replace('\0', '?'), "a package path cannot hold a NUL character");
        }
        BasicFileAttributes attributes = attributes(file, where);
        if (attributes == null) {
            throw new PackageException.Malformed(where, "no such package file");
        }
        if (attributes.isSymbolicLink()) {
            throw new PackageException.Unsafe(where, "expected a regular file, found a symbolic link");
        }
        if (!attributes.isRegularFile()) {
            throw new PackageException.Unsafe(
                    where, "expected a regular file, found " + (attributes.isDirectory() ? "a directory" : "a special file (device, FIFO or socket)"));
        }
        return readRegular(file, where, attributes.size());
    }

    /** Whether {@code path} is a directory (a directory package), not following a link. */
    public static boolean isDirectory(Path path) {
        return Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS);
    }

    private static byte[] readRegular(Path path, String where, long size) throws PackageException {
        if (size > MAX_FILE_BYTES) {
            throw new PackageException.LimitExceeded(where, "expected at most " + MAX_FILE_BYTES + " bytes, found " + size);
        }
        try (InputStream in = Files.newInputStream(path, LinkOption.NOFOLLOW_LINKS)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(size + 1, Integer.MAX_VALUE - 8));
            byte[] chunk = new byte[1 << 16];
            long total = 0;
            int n;
            while ((n = in.read(chunk)) > 0) {
                total += n;
                if (total > MAX_FILE_BYTES) {
                    throw new PackageException.LimitExceeded(where, "expected at most " + MAX_FILE_BYTES + " bytes, the file grew past it");
                }
                out.write(chunk, 0, n);
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new PackageException.Malformed(where, "cannot read the file: " + e.getMessage());
        }
    }

    private static void checkRelative(String relative, String where) throws PackageException {
        if (relative.isEmpty() || relative.startsWith("/") || relative.indexOf('\\') >= 0 || relative.indexOf('\0') >= 0) {
            throw new PackageException.Unsafe(where, "expected a plain relative path inside the package, found " + Text.shown(relative));
        }
        for (String part : relative.split("/", -1)) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) {
                throw new PackageException.Unsafe(where, "expected a plain relative path inside the package, found " + Text.shown(relative));
            }
        }
    }

    private static BasicFileAttributes attributes(Path path, String where) throws PackageException {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new PackageException.Malformed(where, "cannot read the file's attributes: " + e.getMessage());
        }
    }
}
