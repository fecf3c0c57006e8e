from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Package(_message.Message):
    __slots__ = ("magic", "format_version", "id", "owner", "tags", "metadata", "inputs", "encoders", "model", "producer", "checks_json")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class ProducerEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MAGIC_FIELD_NUMBER: _ClassVar[int]
    FORMAT_VERSION_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    ENCODERS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PRODUCER_FIELD_NUMBER: _ClassVar[int]
    CHECKS_JSON_FIELD_NUMBER: _ClassVar[int]
    magic: str
    format_version: str
    id: str
    owner: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    metadata: _containers.ScalarMap[str, str]
    inputs: _containers.RepeatedCompositeFieldContainer[Field]
    encoders: _containers.RepeatedCompositeFieldContainer[Encoder]
    model: Model
    producer: _containers.ScalarMap[str, str]
    checks_json: bytes
    def __init__(self, magic: _Optional[str] = ..., format_version: _Optional[str] = ..., id: _Optional[str] = ..., owner: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., inputs: _Optional[_Iterable[_Union[Field, _Mapping]]] = ..., encoders: _Optional[_Iterable[_Union[Encoder, _Mapping]]] = ..., model: _Optional[_Union[Model, _Mapping]] = ..., producer: _Optional[_Mapping[str, str]] = ..., checks_json: _Optional[bytes] = ...) -> None: ...

class Field(_message.Message):
    __slots__ = ("name", "kind")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[Field.Kind]
        KIND_NUMERIC: _ClassVar[Field.Kind]
        KIND_CATEGORICAL: _ClassVar[Field.Kind]
    KIND_UNSPECIFIED: Field.Kind
    KIND_NUMERIC: Field.Kind
    KIND_CATEGORICAL: Field.Kind
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: Field.Kind
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[Field.Kind, str]] = ...) -> None: ...

class Encoder(_message.Message):
    __slots__ = ("fill_missing", "categorical_encoding", "scale", "affine", "missing_indicator", "one_hot", "refuse_missing", "number_category", "binning", "product", "integer_code", "missing_band", "projection")
    FILL_MISSING_FIELD_NUMBER: _ClassVar[int]
    CATEGORICAL_ENCODING_FIELD_NUMBER: _ClassVar[int]
    SCALE_FIELD_NUMBER: _ClassVar[int]
    AFFINE_FIELD_NUMBER: _ClassVar[int]
    MISSING_INDICATOR_FIELD_NUMBER: _ClassVar[int]
    ONE_HOT_FIELD_NUMBER: _ClassVar[int]
    REFUSE_MISSING_FIELD_NUMBER: _ClassVar[int]
    NUMBER_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    BINNING_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    INTEGER_CODE_FIELD_NUMBER: _ClassVar[int]
    MISSING_BAND_FIELD_NUMBER: _ClassVar[int]
    PROJECTION_FIELD_NUMBER: _ClassVar[int]
    fill_missing: FillMissing
    categorical_encoding: CategoricalEncoding
    scale: Scale
    affine: Affine
    missing_indicator: MissingIndicator
    one_hot: OneHot
    refuse_missing: RefuseMissing
    number_category: NumberCategory
    binning: Binning
    product: Product
    integer_code: IntegerCode
    missing_band: MissingBand
    projection: Projection
    def __init__(self, fill_missing: _Optional[_Union[FillMissing, _Mapping]] = ..., categorical_encoding: _Optional[_Union[CategoricalEncoding, _Mapping]] = ..., scale: _Optional[_Union[Scale, _Mapping]] = ..., affine: _Optional[_Union[Affine, _Mapping]] = ..., missing_indicator: _Optional[_Union[MissingIndicator, _Mapping]] = ..., one_hot: _Optional[_Union[OneHot, _Mapping]] = ..., refuse_missing: _Optional[_Union[RefuseMissing, _Mapping]] = ..., number_category: _Optional[_Union[NumberCategory, _Mapping]] = ..., binning: _Optional[_Union[Binning, _Mapping]] = ..., product: _Optional[_Union[Product, _Mapping]] = ..., integer_code: _Optional[_Union[IntegerCode, _Mapping]] = ..., missing_band: _Optional[_Union[MissingBand, _Mapping]] = ..., projection: _Optional[_Union[Projection, _Mapping]] = ...) -> None: ...

class FillMissing(_message.Message):
    __slots__ = ("features", "outputs", "values")
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    features: _containers.RepeatedScalarFieldContainer[str]
    outputs: _containers.RepeatedScalarFieldContainer[str]
    values: _containers.RepeatedCompositeFieldContainer[Value]
    def __init__(self, features: _Optional[_Iterable[str]] = ..., outputs: _Optional[_Iterable[str]] = ..., values: _Optional[_Iterable[_Union[Value, _Mapping]]] = ...) -> None: ...

class Value(_message.Message):
    __slots__ = ("number", "text")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    number: float
    text: str
    def __init__(self, number: _Optional[float] = ..., text: _Optional[str] = ...) -> None: ...

class CategoricalEncoding(_message.Message):
    __slots__ = ("features", "outputs", "encodings", "unknown_code")
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    ENCODINGS_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_CODE_FIELD_NUMBER: _ClassVar[int]
    features: _containers.RepeatedScalarFieldContainer[str]
    outputs: _containers.RepeatedScalarFieldContainer[str]
    encodings: _containers.RepeatedCompositeFieldContainer[CategoryCodes]
    unknown_code: float
    def __init__(self, features: _Optional[_Iterable[str]] = ..., outputs: _Optional[_Iterable[str]] = ..., encodings: _Optional[_Iterable[_Union[CategoryCodes, _Mapping]]] = ..., unknown_code: _Optional[float] = ...) -> None: ...

class CategoryCodes(_message.Message):
    __slots__ = ("categories", "codes", "missing_code")
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    CODES_FIELD_NUMBER: _ClassVar[int]
    MISSING_CODE_FIELD_NUMBER: _ClassVar[int]
    categories: _containers.RepeatedScalarFieldContainer[str]
    codes: _containers.RepeatedScalarFieldContainer[float]
    missing_code: float
    def __init__(self, categories: _Optional[_Iterable[str]] = ..., codes: _Optional[_Iterable[float]] = ..., missing_code: _Optional[float] = ...) -> None: ...

class Scale(_message.Message):
    __slots__ = ("features", "outputs", "offset", "scale")
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    SCALE_FIELD_NUMBER: _ClassVar[int]
    features: _containers.RepeatedScalarFieldContainer[str]
    outputs: _containers.RepeatedScalarFieldContainer[str]
    offset: _containers.RepeatedScalarFieldContainer[float]
    scale: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, features: _Optional[_Iterable[str]] = ..., outputs: _Optional[_Iterable[str]] = ..., offset: _Optional[_Iterable[float]] = ..., scale: _Optional[_Iterable[float]] = ...) -> None: ...

class Affine(_message.Message):
    __slots__ = ("features", "outputs", "scale", "offset")
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    SCALE_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    features: _containers.RepeatedScalarFieldContainer[str]
    outputs: _containers.RepeatedScalarFieldContainer[str]
    scale: _containers.RepeatedScalarFieldContainer[float]
    offset: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, features: _Optional[_Iterable[str]] = ..., outputs: _Optional[_Iterable[str]] = ..., scale: _Optional[_Iterable[float]] = ..., offset: _Optional[_Iterable[float]] = ...) -> None: ...

class MissingIndicator(_message.Message):
    __slots__ = ("features", "outputs", "kinds")
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    features: _containers.RepeatedScalarFieldContainer[str]
    outputs: _containers.RepeatedScalarFieldContainer[str]
    kinds: _containers.RepeatedScalarFieldContainer[Field.Kind]
    def __init__(self, features: _Optional[_Iterable[str]] = ..., outputs: _Optional[_Iterable[str]] = ..., kinds: _Optional[_Iterable[_Union[Field.Kind, str]]] = ...) -> None: ...

class RefuseMissing(_message.Message):
    __slots__ = ("features", "outputs", "kinds")
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    features: _containers.RepeatedScalarFieldContainer[str]
    outputs: _containers.RepeatedScalarFieldContainer[str]
    kinds: _containers.RepeatedScalarFieldContainer[Field.Kind]
    def __init__(self, features: _Optional[_Iterable[str]] = ..., outputs: _Optional[_Iterable[str]] = ..., kinds: _Optional[_Iterable[_Union[Field.Kind, str]]] = ...) -> None: ...

class NumberCategory(_message.Message):
    __slots__ = ("features", "outputs", "per_feature", "unknown")
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    PER_FEATURE_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_FIELD_NUMBER: _ClassVar[int]
    features: _containers.RepeatedScalarFieldContainer[str]
    outputs: _containers.RepeatedScalarFieldContainer[str]
    per_feature: _containers.RepeatedCompositeFieldContainer[NumberCategoryFeature]
    unknown: str
    def __init__(self, features: _Optional[_Iterable[str]] = ..., outputs: _Optional[_Iterable[str]] = ..., per_feature: _Optional[_Iterable[_Union[NumberCategoryFeature, _Mapping]]] = ..., unknown: _Optional[str] = ...) -> None: ...

class NumberCategoryFeature(_message.Message):
    __slots__ = ("values", "categories")
    VALUES_FIELD_NUMBER: _ClassVar[int]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    categories: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, values: _Optional[_Iterable[float]] = ..., categories: _Optional[_Iterable[str]] = ...) -> None: ...

class Binning(_message.Message):
    __slots__ = ("features", "outputs", "per_feature")
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    PER_FEATURE_FIELD_NUMBER: _ClassVar[int]
    features: _containers.RepeatedScalarFieldContainer[str]
    outputs: _containers.RepeatedScalarFieldContainer[str]
    per_feature: _containers.RepeatedCompositeFieldContainer[BinningEdges]
    def __init__(self, features: _Optional[_Iterable[str]] = ..., outputs: _Optional[_Iterable[str]] = ..., per_feature: _Optional[_Iterable[_Union[BinningEdges, _Mapping]]] = ...) -> None: ...

class BinningEdges(_message.Message):
    __slots__ = ("edges",)
    EDGES_FIELD_NUMBER: _ClassVar[int]
    edges: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, edges: _Optional[_Iterable[float]] = ...) -> None: ...

class Product(_message.Message):
    __slots__ = ("features", "outputs", "products")
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    PRODUCTS_FIELD_NUMBER: _ClassVar[int]
    features: _containers.RepeatedScalarFieldContainer[str]
    outputs: _containers.RepeatedScalarFieldContainer[str]
    products: _containers.RepeatedCompositeFieldContainer[ProductFactors]
    def __init__(self, features: _Optional[_Iterable[str]] = ..., outputs: _Optional[_Iterable[str]] = ..., products: _Optional[_Iterable[_Union[ProductFactors, _Mapping]]] = ...) -> None: ...

class ProductFactors(_message.Message):
    __slots__ = ("factors",)
    FACTORS_FIELD_NUMBER: _ClassVar[int]
    factors: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, factors: _Optional[_Iterable[int]] = ...) -> None: ...

class Projection(_message.Message):
    __slots__ = ("features", "outputs", "mean", "components", "divisors", "centring")
    class Centring(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        CENTRING_AFTER: _ClassVar[Projection.Centring]
        CENTRING_BEFORE: _ClassVar[Projection.Centring]
    CENTRING_AFTER: Projection.Centring
    CENTRING_BEFORE: Projection.Centring
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    DIVISORS_FIELD_NUMBER: _ClassVar[int]
    CENTRING_FIELD_NUMBER: _ClassVar[int]
    features: _containers.RepeatedScalarFieldContainer[str]
    outputs: _containers.RepeatedScalarFieldContainer[str]
    mean: _containers.RepeatedScalarFieldContainer[float]
    components: _containers.RepeatedScalarFieldContainer[float]
    divisors: _containers.RepeatedScalarFieldContainer[float]
    centring: Projection.Centring
    def __init__(self, features: _Optional[_Iterable[str]] = ..., outputs: _Optional[_Iterable[str]] = ..., mean: _Optional[_Iterable[float]] = ..., components: _Optional[_Iterable[float]] = ..., divisors: _Optional[_Iterable[float]] = ..., centring: _Optional[_Union[Projection.Centring, str]] = ...) -> None: ...

class IntegerCode(_message.Message):
    __slots__ = ("features", "outputs")
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    features: _containers.RepeatedScalarFieldContainer[str]
    outputs: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, features: _Optional[_Iterable[str]] = ..., outputs: _Optional[_Iterable[str]] = ...) -> None: ...

class MissingBand(_message.Message):
    __slots__ = ("features", "outputs", "low", "high")
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    LOW_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    features: _containers.RepeatedScalarFieldContainer[str]
    outputs: _containers.RepeatedScalarFieldContainer[str]
    low: _containers.RepeatedScalarFieldContainer[float]
    high: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, features: _Optional[_Iterable[str]] = ..., outputs: _Optional[_Iterable[str]] = ..., low: _Optional[_Iterable[float]] = ..., high: _Optional[_Iterable[float]] = ...) -> None: ...

class OneHot(_message.Message):
    __slots__ = ("features", "outputs", "blocks")
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    BLOCKS_FIELD_NUMBER: _ClassVar[int]
    features: _containers.RepeatedScalarFieldContainer[str]
    outputs: _containers.RepeatedScalarFieldContainer[str]
    blocks: _containers.RepeatedCompositeFieldContainer[OneHotBlock]
    def __init__(self, features: _Optional[_Iterable[str]] = ..., outputs: _Optional[_Iterable[str]] = ..., blocks: _Optional[_Iterable[_Union[OneHotBlock, _Mapping]]] = ...) -> None: ...

class OneHotBlock(_message.Message):
    __slots__ = ("categories", "columns", "width", "missing_column", "unknown_policy", "unknown_column")
    class UnknownPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        UNKNOWN_POLICY_UNSPECIFIED: _ClassVar[OneHotBlock.UnknownPolicy]
        UNKNOWN_POLICY_ERROR: _ClassVar[OneHotBlock.UnknownPolicy]
        UNKNOWN_POLICY_ZEROS: _ClassVar[OneHotBlock.UnknownPolicy]
    UNKNOWN_POLICY_UNSPECIFIED: OneHotBlock.UnknownPolicy
    UNKNOWN_POLICY_ERROR: OneHotBlock.UnknownPolicy
    UNKNOWN_POLICY_ZEROS: OneHotBlock.UnknownPolicy
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    MISSING_COLUMN_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_POLICY_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_COLUMN_FIELD_NUMBER: _ClassVar[int]
    categories: _containers.RepeatedScalarFieldContainer[str]
    columns: _containers.RepeatedScalarFieldContainer[int]
    width: int
    missing_column: int
    unknown_policy: OneHotBlock.UnknownPolicy
    unknown_column: int
    def __init__(self, categories: _Optional[_Iterable[str]] = ..., columns: _Optional[_Iterable[int]] = ..., width: _Optional[int] = ..., missing_column: _Optional[int] = ..., unknown_policy: _Optional[_Union[OneHotBlock.UnknownPolicy, str]] = ..., unknown_column: _Optional[int] = ...) -> None: ...

class Model(_message.Message):
    __slots__ = ("tree_ensemble", "linear_model", "tree_ensemble_with_rules", "tree_ensemble_float32", "composite", "tree_ensemble_divided", "tree_ensemble_weighted_median")
    TREE_ENSEMBLE_FIELD_NUMBER: _ClassVar[int]
    LINEAR_MODEL_FIELD_NUMBER: _ClassVar[int]
    TREE_ENSEMBLE_WITH_RULES_FIELD_NUMBER: _ClassVar[int]
    TREE_ENSEMBLE_FLOAT32_FIELD_NUMBER: _ClassVar[int]
    COMPOSITE_FIELD_NUMBER: _ClassVar[int]
    TREE_ENSEMBLE_DIVIDED_FIELD_NUMBER: _ClassVar[int]
    TREE_ENSEMBLE_WEIGHTED_MEDIAN_FIELD_NUMBER: _ClassVar[int]
    tree_ensemble: TreeEnsemble
    linear_model: LinearModel
    tree_ensemble_with_rules: TreeEnsembleWithRules
    tree_ensemble_float32: TreeEnsembleFloat32
    composite: Composite
    tree_ensemble_divided: TreeEnsembleDivided
    tree_ensemble_weighted_median: TreeEnsembleWeightedMedian
    def __init__(self, tree_ensemble: _Optional[_Union[TreeEnsemble, _Mapping]] = ..., linear_model: _Optional[_Union[LinearModel, _Mapping]] = ..., tree_ensemble_with_rules: _Optional[_Union[TreeEnsembleWithRules, _Mapping]] = ..., tree_ensemble_float32: _Optional[_Union[TreeEnsembleFloat32, _Mapping]] = ..., composite: _Optional[_Union[Composite, _Mapping]] = ..., tree_ensemble_divided: _Optional[_Union[TreeEnsembleDivided, _Mapping]] = ..., tree_ensemble_weighted_median: _Optional[_Union[TreeEnsembleWeightedMedian, _Mapping]] = ...) -> None: ...

class Composite(_message.Message):
    __slots__ = ("combination", "members", "weights", "divisor", "classes", "final", "passthrough", "calibration", "calibration_method", "calibration_points", "target_steps")
    class Combination(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        COMBINATION_UNSPECIFIED: _ClassVar[Composite.Combination]
        COMBINATION_AVERAGE: _ClassVar[Composite.Combination]
        COMBINATION_VOTE: _ClassVar[Composite.Combination]
        COMBINATION_STACK: _ClassVar[Composite.Combination]
        COMBINATION_CALIBRATE: _ClassVar[Composite.Combination]
        COMBINATION_TARGET: _ClassVar[Composite.Combination]
    COMBINATION_UNSPECIFIED: Composite.Combination
    COMBINATION_AVERAGE: Composite.Combination
    COMBINATION_VOTE: Composite.Combination
    COMBINATION_STACK: Composite.Combination
    COMBINATION_CALIBRATE: Composite.Combination
    COMBINATION_TARGET: Composite.Combination
    class CalibrationMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        CALIBRATION_METHOD_SIGMOID: _ClassVar[Composite.CalibrationMethod]
        CALIBRATION_METHOD_ISOTONIC: _ClassVar[Composite.CalibrationMethod]
    CALIBRATION_METHOD_SIGMOID: Composite.CalibrationMethod
    CALIBRATION_METHOD_ISOTONIC: Composite.CalibrationMethod
    class TargetStep(_message.Message):
        __slots__ = ("operation", "number")
        class Operation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
            __slots__ = ()
            OPERATION_UNSPECIFIED: _ClassVar[Composite.TargetStep.Operation]
            OPERATION_ADD: _ClassVar[Composite.TargetStep.Operation]
            OPERATION_SUBTRACT: _ClassVar[Composite.TargetStep.Operation]
            OPERATION_MULTIPLY: _ClassVar[Composite.TargetStep.Operation]
            OPERATION_DIVIDE: _ClassVar[Composite.TargetStep.Operation]
            OPERATION_EXP: _ClassVar[Composite.TargetStep.Operation]
            OPERATION_EXPM1: _ClassVar[Composite.TargetStep.Operation]
        OPERATION_UNSPECIFIED: Composite.TargetStep.Operation
        OPERATION_ADD: Composite.TargetStep.Operation
        OPERATION_SUBTRACT: Composite.TargetStep.Operation
        OPERATION_MULTIPLY: Composite.TargetStep.Operation
        OPERATION_DIVIDE: Composite.TargetStep.Operation
        OPERATION_EXP: Composite.TargetStep.Operation
        OPERATION_EXPM1: Composite.TargetStep.Operation
        OPERATION_FIELD_NUMBER: _ClassVar[int]
        NUMBER_FIELD_NUMBER: _ClassVar[int]
        operation: Composite.TargetStep.Operation
        number: float
        def __init__(self, operation: _Optional[_Union[Composite.TargetStep.Operation, str]] = ..., number: _Optional[float] = ...) -> None: ...
    COMBINATION_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    DIVISOR_FIELD_NUMBER: _ClassVar[int]
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    PASSTHROUGH_FIELD_NUMBER: _ClassVar[int]
    CALIBRATION_FIELD_NUMBER: _ClassVar[int]
    CALIBRATION_METHOD_FIELD_NUMBER: _ClassVar[int]
    CALIBRATION_POINTS_FIELD_NUMBER: _ClassVar[int]
    TARGET_STEPS_FIELD_NUMBER: _ClassVar[int]
    combination: Composite.Combination
    members: _containers.RepeatedCompositeFieldContainer[Model]
    weights: _containers.RepeatedScalarFieldContainer[float]
    divisor: float
    classes: _containers.RepeatedCompositeFieldContainer[ClassLabel]
    final: Model
    passthrough: bool
    calibration: _containers.RepeatedScalarFieldContainer[float]
    calibration_method: Composite.CalibrationMethod
    calibration_points: _containers.RepeatedScalarFieldContainer[int]
    target_steps: _containers.RepeatedCompositeFieldContainer[Composite.TargetStep]
    def __init__(self, combination: _Optional[_Union[Composite.Combination, str]] = ..., members: _Optional[_Iterable[_Union[Model, _Mapping]]] = ..., weights: _Optional[_Iterable[float]] = ..., divisor: _Optional[float] = ..., classes: _Optional[_Iterable[_Union[ClassLabel, _Mapping]]] = ..., final: _Optional[_Union[Model, _Mapping]] = ..., passthrough: _Optional[bool] = ..., calibration: _Optional[_Iterable[float]] = ..., calibration_method: _Optional[_Union[Composite.CalibrationMethod, str]] = ..., calibration_points: _Optional[_Iterable[int]] = ..., target_steps: _Optional[_Iterable[_Union[Composite.TargetStep, _Mapping]]] = ...) -> None: ...

class TreeEnsembleWeightedMedian(_message.Message):
    __slots__ = ("rules", "tree_weights")
    RULES_FIELD_NUMBER: _ClassVar[int]
    TREE_WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    rules: TreeEnsembleWithRules
    tree_weights: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, rules: _Optional[_Union[TreeEnsembleWithRules, _Mapping]] = ..., tree_weights: _Optional[_Iterable[float]] = ...) -> None: ...

class TreeEnsembleDivided(_message.Message):
    __slots__ = ("rules", "divisors")
    RULES_FIELD_NUMBER: _ClassVar[int]
    DIVISORS_FIELD_NUMBER: _ClassVar[int]
    rules: TreeEnsembleWithRules
    divisors: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, rules: _Optional[_Union[TreeEnsembleWithRules, _Mapping]] = ..., divisors: _Optional[_Iterable[float]] = ...) -> None: ...

class TreeEnsembleFloat32(_message.Message):
    __slots__ = ("rules",)
    RULES_FIELD_NUMBER: _ClassVar[int]
    rules: TreeEnsembleWithRules
    def __init__(self, rules: _Optional[_Union[TreeEnsembleWithRules, _Mapping]] = ...) -> None: ...

class LinearModel(_message.Message):
    __slots__ = ("features", "coefficients", "intercepts", "post_transform", "classes")
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    COEFFICIENTS_FIELD_NUMBER: _ClassVar[int]
    INTERCEPTS_FIELD_NUMBER: _ClassVar[int]
    POST_TRANSFORM_FIELD_NUMBER: _ClassVar[int]
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    features: _containers.RepeatedScalarFieldContainer[str]
    coefficients: _containers.RepeatedScalarFieldContainer[float]
    intercepts: _containers.RepeatedScalarFieldContainer[float]
    post_transform: TreeEnsemble.PostTransform
    classes: _containers.RepeatedCompositeFieldContainer[ClassLabel]
    def __init__(self, features: _Optional[_Iterable[str]] = ..., coefficients: _Optional[_Iterable[float]] = ..., intercepts: _Optional[_Iterable[float]] = ..., post_transform: _Optional[_Union[TreeEnsemble.PostTransform, str]] = ..., classes: _Optional[_Iterable[_Union[ClassLabel, _Mapping]]] = ...) -> None: ...

class TreeEnsembleWithRules(_message.Message):
    __slots__ = ("ensemble", "leaf_width", "missing", "infinite", "tree_sets", "isolation")
    class Missing(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        MISSING_UNSPECIFIED: _ClassVar[TreeEnsembleWithRules.Missing]
        MISSING_ROUTE: _ClassVar[TreeEnsembleWithRules.Missing]
        MISSING_ERROR: _ClassVar[TreeEnsembleWithRules.Missing]
    MISSING_UNSPECIFIED: TreeEnsembleWithRules.Missing
    MISSING_ROUTE: TreeEnsembleWithRules.Missing
    MISSING_ERROR: TreeEnsembleWithRules.Missing
    class Infinite(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        INFINITE_UNSPECIFIED: _ClassVar[TreeEnsembleWithRules.Infinite]
        INFINITE_ERROR: _ClassVar[TreeEnsembleWithRules.Infinite]
        INFINITE_COMPARE: _ClassVar[TreeEnsembleWithRules.Infinite]
    INFINITE_UNSPECIFIED: TreeEnsembleWithRules.Infinite
    INFINITE_ERROR: TreeEnsembleWithRules.Infinite
    INFINITE_COMPARE: TreeEnsembleWithRules.Infinite
    ENSEMBLE_FIELD_NUMBER: _ClassVar[int]
    LEAF_WIDTH_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    INFINITE_FIELD_NUMBER: _ClassVar[int]
    TREE_SETS_FIELD_NUMBER: _ClassVar[int]
    ISOLATION_FIELD_NUMBER: _ClassVar[int]
    ensemble: TreeEnsemble
    leaf_width: int
    missing: TreeEnsembleWithRules.Missing
    infinite: TreeEnsembleWithRules.Infinite
    tree_sets: _containers.RepeatedCompositeFieldContainer[TreeSets]
    isolation: Isolation
    def __init__(self, ensemble: _Optional[_Union[TreeEnsemble, _Mapping]] = ..., leaf_width: _Optional[int] = ..., missing: _Optional[_Union[TreeEnsembleWithRules.Missing, str]] = ..., infinite: _Optional[_Union[TreeEnsembleWithRules.Infinite, str]] = ..., tree_sets: _Optional[_Iterable[_Union[TreeSets, _Mapping]]] = ..., isolation: _Optional[_Union[Isolation, _Mapping]] = ...) -> None: ...

class TreeSets(_message.Message):
    __slots__ = ("nodes", "sizes", "values")
    NODES_FIELD_NUMBER: _ClassVar[int]
    SIZES_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedScalarFieldContainer[int]
    sizes: _containers.RepeatedScalarFieldContainer[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, nodes: _Optional[_Iterable[int]] = ..., sizes: _Optional[_Iterable[int]] = ..., values: _Optional[_Iterable[float]] = ...) -> None: ...

class Isolation(_message.Message):
    __slots__ = ("denominator", "offset")
    DENOMINATOR_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    denominator: float
    offset: float
    def __init__(self, denominator: _Optional[float] = ..., offset: _Optional[float] = ...) -> None: ...

class TreeEnsemble(_message.Message):
    __slots__ = ("features", "aggregation", "post_transform", "classes", "base_value", "trees")
    class Aggregation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        AGGREGATION_UNSPECIFIED: _ClassVar[TreeEnsemble.Aggregation]
        AGGREGATION_AVERAGE: _ClassVar[TreeEnsemble.Aggregation]
        AGGREGATION_SUM: _ClassVar[TreeEnsemble.Aggregation]
    AGGREGATION_UNSPECIFIED: TreeEnsemble.Aggregation
    AGGREGATION_AVERAGE: TreeEnsemble.Aggregation
    AGGREGATION_SUM: TreeEnsemble.Aggregation
    class PostTransform(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        POST_TRANSFORM_UNSPECIFIED: _ClassVar[TreeEnsemble.PostTransform]
        POST_TRANSFORM_NONE: _ClassVar[TreeEnsemble.PostTransform]
        POST_TRANSFORM_LOGISTIC: _ClassVar[TreeEnsemble.PostTransform]
        POST_TRANSFORM_SOFTMAX: _ClassVar[TreeEnsemble.PostTransform]
        POST_TRANSFORM_ISOLATION: _ClassVar[TreeEnsemble.PostTransform]
        POST_TRANSFORM_EXP: _ClassVar[TreeEnsemble.PostTransform]
    POST_TRANSFORM_UNSPECIFIED: TreeEnsemble.PostTransform
    POST_TRANSFORM_NONE: TreeEnsemble.PostTransform
    POST_TRANSFORM_LOGISTIC: TreeEnsemble.PostTransform
    POST_TRANSFORM_SOFTMAX: TreeEnsemble.PostTransform
    POST_TRANSFORM_ISOLATION: TreeEnsemble.PostTransform
    POST_TRANSFORM_EXP: TreeEnsemble.PostTransform
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    AGGREGATION_FIELD_NUMBER: _ClassVar[int]
    POST_TRANSFORM_FIELD_NUMBER: _ClassVar[int]
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    BASE_VALUE_FIELD_NUMBER: _ClassVar[int]
    TREES_FIELD_NUMBER: _ClassVar[int]
    features: _containers.RepeatedScalarFieldContainer[str]
    aggregation: TreeEnsemble.Aggregation
    post_transform: TreeEnsemble.PostTransform
    classes: _containers.RepeatedCompositeFieldContainer[ClassLabel]
    base_value: _containers.RepeatedScalarFieldContainer[float]
    trees: _containers.RepeatedCompositeFieldContainer[Tree]
    def __init__(self, features: _Optional[_Iterable[str]] = ..., aggregation: _Optional[_Union[TreeEnsemble.Aggregation, str]] = ..., post_transform: _Optional[_Union[TreeEnsemble.PostTransform, str]] = ..., classes: _Optional[_Iterable[_Union[ClassLabel, _Mapping]]] = ..., base_value: _Optional[_Iterable[float]] = ..., trees: _Optional[_Iterable[_Union[Tree, _Mapping]]] = ...) -> None: ...

class ClassLabel(_message.Message):
    __slots__ = ("text", "integer", "number", "boolean")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    INTEGER_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    BOOLEAN_FIELD_NUMBER: _ClassVar[int]
    text: str
    integer: int
    number: float
    boolean: bool
    def __init__(self, text: _Optional[str] = ..., integer: _Optional[int] = ..., number: _Optional[float] = ..., boolean: _Optional[bool] = ...) -> None: ...

class Tree(_message.Message):
    __slots__ = ("feature", "left", "right", "threshold", "missing_left", "leaf_value")
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    LEFT_FIELD_NUMBER: _ClassVar[int]
    RIGHT_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    MISSING_LEFT_FIELD_NUMBER: _ClassVar[int]
    LEAF_VALUE_FIELD_NUMBER: _ClassVar[int]
    feature: _containers.RepeatedScalarFieldContainer[int]
    left: _containers.RepeatedScalarFieldContainer[int]
    right: _containers.RepeatedScalarFieldContainer[int]
    threshold: _containers.RepeatedScalarFieldContainer[float]
    missing_left: _containers.RepeatedScalarFieldContainer[bool]
    leaf_value: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, feature: _Optional[_Iterable[int]] = ..., left: _Optional[_Iterable[int]] = ..., right: _Optional[_Iterable[int]] = ..., threshold: _Optional[_Iterable[float]] = ..., missing_left: _Optional[_Iterable[bool]] = ..., leaf_value: _Optional[_Iterable[float]] = ...) -> None: ...
