package dev.crossform;

/**
 * A package this library refuses to read: the file it is about and the reason.
 * Every refusal is one of the named subclasses, so a caller can tell them apart.
 */
public class PackageException extends Exception {
    private final String file;
    private final String reason;

    public PackageException(String file, String reason) {
        super(file + ": " + reason);
        this.file = file;
        this.reason = reason;
    }

    /** The file (or package path) the refusal is about. */
    public String file() {
        return file;
    }

    /** Why it is refused: what was expected and what was found. */
    public String reason() {
        return reason;
    }

    /** A file that is not what its format says (schema, structure, a value out of range). */
    public static class Malformed extends PackageException {
        public Malformed(String file, String reason) {
            super(file, reason);
        }
    }

    /** A file that is not valid JSON, or JSON the format forbids (duplicate keys, NaN literals). */
    public static class BadJson extends Malformed {
        public BadJson(String file, String reason) {
            super(file, reason);
        }
    }

    /** A path that is unsafe to read: a link, a device, a FIFO, outside the package. */
    public static class Unsafe extends PackageException {
        public Unsafe(String file, String reason) {
            super(file, reason);
        }
    }

    /** A count or size beyond the format's limits. */
    public static class LimitExceeded extends Malformed {
        public LimitExceeded(String file, String reason) {
            super(file, reason);
        }
    }

    /** A format or encoding version this reader does not read. */
    public static class FormatVersion extends PackageException {
        public FormatVersion(String file, String reason) {
            super(file, reason);
        }
    }

    /** A bonsai file whose bytes are not a valid encoding (magic, checksum, structure, columns). */
    public static class Bonsai extends Malformed {
        public Bonsai(String file, String reason) {
            super(file, reason);
        }
    }

    /** A bonsai file whose CRC-32 differs from the one it records. */
    public static class Checksum extends Bonsai {
        public Checksum(String file, String reason) {
            super(file, reason);
        }
    }

    /** A bonsai file that ends before a section it declares. */
    public static class Truncated extends Bonsai {
        public Truncated(String file, String reason) {
            super(file, reason);
        }
    }

    /** A package whose content hashes to another id than the one its manifest records. */
    public static class IdMismatch extends PackageException {
        public IdMismatch(String file, String reason) {
            super(file, reason);
        }
    }

    /** A valid package using a kind (encoder, model, rule) this scorer does not read yet. */
    public static class UnsupportedKind extends PackageException {
        private final String kind;

        public UnsupportedKind(String file, String kind) {
            super(file, "the jvm runtime does not read " + kind + " yet");
            this.kind = kind;
        }

        /** The kind not read, e.g. "encoder binning" or "model linear-regression". */
        public String kind() {
            return kind;
        }
    }

    // The protobuf reader's refusals, one per Python ProtobufError of crossform.exporters.protobuf.rules
    // (the same names without "Error"), each naming the file and the message path inside it.

    /** Bytes protobuf cannot parse as a crossform.v1.Package. */
    public static class ProtobufDecode extends Malformed {
        public ProtobufDecode(String file, String reason) {
            super(file, reason);
        }
    }

    /** A file that does not start with, or does not hold, the crossform.package magic. */
    public static class ProtobufMagic extends Malformed {
        public ProtobufMagic(String file, String reason) {
            super(file, reason);
        }
    }

    /** Fields this reader does not know, in a package of its own or an older minor. */
    public static class ProtobufUnknownField extends Malformed {
        public ProtobufUnknownField(String file, String reason) {
            super(file, reason);
        }
    }

    /** A required field, or a oneof, that is not set. */
    public static class ProtobufMissing extends Malformed {
        public ProtobufMissing(String file, String reason) {
            super(file, reason);
        }
    }

    /** An enum left UNSPECIFIED, or a value this reader does not know (or not in this place). */
    public static class ProtobufEnum extends Malformed {
        public ProtobufEnum(String file, String reason) {
            super(file, reason);
        }
    }

    /** Arrays whose lengths disagree with each other or with the model. */
    public static class ProtobufCount extends Malformed {
        public ProtobufCount(String file, String reason) {
            super(file, reason);
        }
    }

    /** A child, feature, column or set-node index outside its range, or a set on a leaf. */
    public static class ProtobufIndex extends Malformed {
        public ProtobufIndex(String file, String reason) {
            super(file, reason);
        }
    }

    /** Entries that must be strictly ascending (set nodes, a set's values) and are not. */
    public static class ProtobufOrder extends Malformed {
        public ProtobufOrder(String file, String reason) {
            super(file, reason);
        }
    }

    /** A number its field does not allow (a NaN threshold, an infinite set value, a divisor <= 0). */
    public static class ProtobufValue extends Malformed {
        public ProtobufValue(String file, String reason) {
            super(file, reason);
        }
    }

    /** A field set where the rules require it absent. */
    public static class ProtobufUnexpected extends Malformed {
        public ProtobufUnexpected(String file, String reason) {
            super(file, reason);
        }
    }
}
