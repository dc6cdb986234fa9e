"""The one configuration model for a whole run. Loading and error messages: ``config_io``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domainfit.config_base import StrictModel
from domainfit.config_sweep import SweepConfig

Format = Literal[
    "auto",
    "csv",
    "tsv",
    "txt",
    "parquet",
    "jsonl",
    "image_folder",
    "audio_folder",
    "npz",
    "svmlight",
    "mat",
    "hf_disk",
]


def _int_as_str(v: Any) -> Any:
    if isinstance(v, list):
        return [_int_as_str(x) for x in v]
    return str(v) if isinstance(v, int) and not isinstance(v, bool) else v


def _header_word(v: Any) -> Any:
    """pandas spells "no header" as header=None; YAML users write false or null too."""
    return "none" if v is None or v is False else "first_row" if v is True else v


class DataSpec(StrictModel):
    """One domain's data: a path or a named public data set, and which columns mean what."""

    spec: str = Field(description="file, folder, or named data set such as amazon-reviews:kitchen")
    format: Format = "auto"
    domain: str | None = Field(None, description="domain name; defaults to the file or set name")
    text: str | None = Field(None, description="text column (default: 'text' if present)")
    features: list[str] | None = Field(None, description="feature columns (default: the rest)")
    label: str | None = Field(None, description="label column or variable (default: 'label')")
    group: str | None = None
    time: str | None = None
    split: str | None = Field(None, description="column holding a predefined train/val/test")
    drop_columns: list[str] = Field(default_factory=list)
    x: str | None = Field(None, description="feature variable in .mat/.npz (default: guessed)")
    delimiter: str | None = Field(None, description="CSV delimiter (default: by extension)")
    header: Literal["auto", "first_row", "none"] = Field(
        "auto",
        description="CSV/TSV/TXT: first_row holds column names; none: columns are named by "
        "position (0, 1, ...); auto: first_row, warning when it looks like data (.txt: none)",
    )
    encoding: str = "utf-8"
    hf_split: str | None = Field(None, description="split of a saved DatasetDict")
    zero_based: bool | None = Field(
        None,
        description="svmlight: feature indices start at 0 (true) or 1 (false); default: "
        "guessed per file, which can misalign a train and a test file",
    )
    n_features: int | None = Field(None, ge=1, description="svmlight: number of feature columns")
    sample_rate: int = Field(16000, ge=1000, description="audio: clips are resampled to this")
    audio_seconds: float | None = Field(
        None, gt=0, description="audio: window length (default: the longest clip, at most 10 s)"
    )

    @field_validator("spec")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v

    # a headerless file's columns are named by position, and YAML reads `text: 0` as a number
    _position_as_name = field_validator(
        "text", "label", "group", "time", "split", "features", "drop_columns", mode="before"
    )(_int_as_str)
    _header_alias = field_validator("header", mode="before")(_header_word)


def _spec_from_string(v: Any) -> Any:
    return {"spec": v} if isinstance(v, str) else v


class DataConfig(StrictModel):
    source: DataSpec
    target: DataSpec | None = None
    task: Literal["auto", "classification", "regression"] = "auto"
    limit: int | None = Field(
        None, ge=2, description="keep at most this many samples per domain (stratified, seeded)"
    )
    target_labels: float = Field(
        0,
        ge=0,
        description="labelled target training samples used: 0 (unsupervised adaptation), a "
        "count (>= 1), or a fraction (< 1) of the target's training split",
    )

    _coerce_source = field_validator("source", mode="before")(_spec_from_string)
    _coerce_target = field_validator("target", mode="before")(_spec_from_string)


class CleanConfig(StrictModel):
    """Actions applied to each domain before splitting; every one is logged with its count."""

    drop_duplicates: bool = False
    drop_near_duplicates: bool = False
    drop_cross_domain: bool = Field(
        False,
        description="drop from the source every row that repeats a target row exactly (the "
        "target, labelled or not, is kept whole): drop_duplicates works within a domain only",
    )
    missing: Literal["keep", "drop", "mean", "median", "most_frequent", "constant"] = "keep"
    fill_value: float | str | None = None
    drop_missing_labels: bool = True
    drop_corrupt: bool = False
    clip_outliers: bool = False

    @model_validator(mode="after")
    def _fill_value_needed(self) -> CleanConfig:
        if self.missing == "constant" and self.fill_value is None:
            raise ValueError("clean.missing='constant' needs clean.fill_value; set it")
        return self


class SplitConfig(StrictModel):
    method: Literal["auto", "random", "stratified", "group", "time", "predefined", "kfold"] = "auto"
    train: float = 0.7
    val: float = 0.15
    test: float = 0.15
    seed: int = 0
    k: int = Field(5, ge=2, description="number of folds for method=kfold")
    kfold_by: Literal["auto", "random", "stratified", "group", "time"] = "auto"

    @model_validator(mode="after")
    def _ratios(self) -> SplitConfig:
        ratios = {"train": self.train, "val": self.val, "test": self.test}
        for name, r in ratios.items():
            if r < 0 or r > 1:
                raise ValueError(f"split.{name}={r} must lie in [0, 1]")
        if self.train <= 0:
            raise ValueError(f"split.train={self.train} must be > 0")
        total = sum(ratios.values())
        if self.method not in ("kfold", "predefined") and abs(total - 1.0) > 1e-6:
            raise ValueError(
                f"split ratios train+val+test = {self.train}+{self.val}+{self.test} = "
                f"{total:g}, must sum to 1"
            )
        return self


class PreprocessConfig(StrictModel):
    """Fitted on the training split only (tabular and feature data)."""

    scaler: Literal["none", "standard", "minmax", "robust"] = "standard"
    impute: Literal["none", "mean", "median", "most_frequent", "constant"] = "median"
    fill_value: float | str | None = None
    categorical: Literal["onehot", "drop"] = "onehot"

    @model_validator(mode="after")
    def _fill_value_needed(self) -> PreprocessConfig:
        if self.impute == "constant" and self.fill_value is None:
            raise ValueError("preprocess.impute='constant' needs preprocess.fill_value; set it")
        return self


class TimeFeaturesConfig(StrictModel):
    """Features from the past of each row (sorted by the time column, per group if any)."""

    columns: list[str] | None = Field(None, description="source columns (default: numeric)")
    lags: list[int] = Field(default_factory=list)
    diffs: list[int] = Field(default_factory=list)
    rolling: list[int] = Field(default_factory=list, description="window sizes")
    rolling_stats: list[Literal["mean", "std", "min", "max"]] = Field(
        default_factory=lambda: ["mean", "std"]
    )

    @field_validator("lags", "diffs", "rolling")
    @classmethod
    def _positive(cls, v: list[int]) -> list[int]:
        if any(x < 1 for x in v):
            raise ValueError(f"values must be >= 1, got {v}")
        return v


class FeaturesConfig(StrictModel):
    select: Literal[
        "none", "variance", "chi2", "mutual_info", "correlation", "rfe", "rfecv", "l1", "tree"
    ] = "none"
    k: int | None = Field(None, ge=1, description="features to keep (chi2, mutual_info, rfe)")
    threshold: float | None = Field(
        None, description="variance, correlation or importance threshold (by method)"
    )
    time_features: TimeFeaturesConfig | None = None


class AuditConfig(StrictModel):
    min_class_samples: int = Field(10, ge=1)
    outlier_iqr: float = Field(3.0, gt=0, description="outlier fence: k * IQR beyond quartiles")
    near_duplicate_decimals: int = Field(3, ge=0, description="rounding for near-duplicate rows")
    max_examples: int = Field(5, ge=1)


class HeadConfig(StrictModel):
    type: Literal["linear", "mlp"] = "linear"
    hidden: int = Field(256, ge=1, description="hidden units of the MLP head")
    dropout: float = Field(0.1, ge=0, lt=1)


class ModelConfig(StrictModel):
    """A pretrained backbone and the head put on it."""

    backbone: str = Field(
        description="hf:<id or folder>, timm:<name>[.<tag>], torchvision:<name>[@<weights>], "
        "local:<folder>, python:<module>:<callable>, minilm, or efficientnet-lite0"
    )
    weights: str | None = Field(
        None,
        description="weights file (safetensors or a weights-only torch file) loaded into the "
        "backbone: pretrained timm/torchvision weights, or a finished run's "
        "model/model.safetensors to continue from (any backbone kind)",
    )
    allow_download: bool = Field(
        False,
        description="fetch pretrained weights from the hub (Hugging Face, timm, torchvision), "
        "kept in each library's own cache; off: only local files and efficientnet-lite0/minilm",
    )
    trust_remote_code: bool = False
    allow_python: bool = Field(False, description="permit python:<module>:<callable> specs")
    pretrained: bool = Field(
        True,
        description="false: the same architecture with fresh random weights (the from-scratch "
        "baseline that shows what pretraining is worth)",
    )
    pooling: Literal["cls", "mean"] = "mean"
    max_length: int = Field(256, ge=8, description="token limit for text backbones")
    truncation: Literal["head", "tail", "head_tail"] = Field(
        "head",
        description="text longer than max_length keeps its start (head), its end (tail), or "
        "its first quarter and last three quarters of the budget (head_tail: best on long "
        "reviews in Sun et al. 2019)",
    )
    image_size: int | None = Field(
        None,
        ge=8,
        description="square side the network reads; default: the backbone's own pretrained "
        "configuration (timm pretrained_cfg, torchvision weights, efficientnet-lite0: 224), "
        "32 for local and python backbones",
    )
    image_mean: tuple[float, float, float] | None = Field(
        None, description="per-channel mean subtracted from [0, 1] pixels; default: the backbone's"
    )
    image_std: tuple[float, float, float] | None = Field(
        None, description="per-channel spread pixels are divided by; default: the backbone's"
    )
    image_crop_pct: float | None = Field(
        None,
        gt=0,
        le=1,
        description="resize the shorter side to image_size / crop_pct, then cut the centre "
        "square; 1: the whole image resized; default: the backbone's",
    )
    gradient_checkpointing: bool = Field(
        False,
        description="recompute activations in the backward pass: less memory, about a third "
        "more compute (Hugging Face and timm backbones)",
    )
    token_cache_dir: str | None = Field(
        "runs/cache/tokens",
        description="text: folder where tokenised splits are kept, so a later run on the same "
        "texts and tokenizer reads them back; null: tokenise every run",
    )
    head: HeadConfig = Field(default_factory=HeadConfig)


class EarlyStoppingConfig(StrictModel):
    metric: str = Field("val.loss", description="metric watched, e.g. val.loss or val.accuracy")
    mode: Literal["min", "max", "auto"] = "auto"
    patience: int = Field(3, ge=1, description="evaluations without improvement before stopping")
    min_delta: float = Field(0.0, ge=0)


class TrainConfig(StrictModel):
    """Optimisation. Learning rates are per optimizer step; schedules step once per update."""

    epochs: int = Field(3, ge=1)
    batch_size: int = Field(32, ge=1)
    grad_accum: int = Field(1, ge=1, description="micro-batches per optimizer step")
    optimizer: Literal["sgd", "adam", "adamw", "rmsprop"] = "adamw"
    lr: float = Field(3e-5, gt=0)
    weight_decay: float = Field(0.01, ge=0)
    momentum: float = Field(0.9, ge=0, lt=1, description="sgd and rmsprop")
    nesterov: bool = False
    betas: tuple[float, float] = (0.9, 0.999)
    schedule: Literal[
        "constant", "step", "multistep", "exponential", "cosine", "linear", "onecycle", "inverse"
    ] = Field(
        "linear",
        description="inverse: the DANN paper's annealing, lr / (1 + 10 p)^0.75 with p the "
        "fraction of training done (ends at 0.17 lr; TLlib's adaptation recipes)",
    )
    warmup_steps: int = Field(0, ge=0)
    warmup_ratio: float = Field(0.0, ge=0, lt=1, description="of all steps; wins over steps")
    step_size: int = Field(1, ge=1, description="step: decay every this many epochs")
    milestones: list[int] = Field(default_factory=list, description="multistep: epochs")
    gamma: float = Field(0.1, gt=0, description="decay factor of step/multistep/exponential")
    clip_grad_norm: float | None = Field(1.0, gt=0)
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"
    checkpoint_every_steps: int | None = Field(
        None, ge=1, description="also checkpoint every N optimizer steps (default: each epoch)"
    )
    keep_checkpoints: int = Field(
        0,
        ge=0,
        description="full checkpoints (weights, optimizer, RNG) kept once the run has finished; "
        "its best model stays in model/ either way. A MiniLM checkpoint is 259 MB; 1 lets "
        "--resume continue a finished run, diagnose --check-resume needs 2. While training "
        "the two newest are kept, so a crash always leaves one to resume from",
    )
    eval_every_steps: int | None = Field(
        None, ge=1, description="also validate every N optimizer steps (default: each epoch)"
    )
    early_stopping: EarlyStoppingConfig | None = None
    num_workers: int = Field(
        0,
        ge=0,
        description="batches built ahead on a background thread (0: built when needed); "
        "helps when augmentation or image decoding is slow",
    )
    bucket_by_length: bool = Field(
        False,
        description="text: batch reviews of similar length together (less padding, faster); "
        "batches still come in random order",
    )
    max_seconds: float | None = Field(
        None,
        gt=0,
        description="stop training once this many seconds have passed (checked after each "
        "optimizer step; with several processes, at epoch ends), keeping the best model so "
        "far: a deadline for budgeted runs",
    )

    @model_validator(mode="after")
    def _schedule_options(self) -> TrainConfig:
        if self.schedule == "multistep" and not self.milestones:
            raise ValueError("train.schedule='multistep' needs train.milestones (epochs)")
        if self.nesterov and self.optimizer != "sgd":
            raise ValueError("train.nesterov applies to train.optimizer='sgd' only")
        return self


class LoraSettings(StrictModel):
    """Low-rank adapters (``strategy.name=lora``): each targeted linear layer W gets a trainable
    update B @ A of rank ``r`` scaled by ``alpha / r``; W itself stays frozen."""

    r: int = Field(8, ge=1, description="rank of each adapter")
    alpha: int = Field(16, ge=1, description="scaling numerator: updates are scaled by alpha / r")
    dropout: float = Field(0.1, ge=0, lt=1, description="dropout on the adapters' input")
    target_modules: list[str] | None = Field(
        None,
        description="names of the linear layers to adapt (default: the attention projections "
        "of the backbone's family, e.g. query/value for BERT and ViT, qkv for timm ViTs)",
    )


class StrategyConfig(StrictModel):
    """What trains and when. The name is checked against the strategy registry when the run is
    built (``unknown strategy 'x'; known: ...``), so strategies added as plug-ins need no edit
    here; the options below are read by the strategies that name them."""

    name: str = Field(
        "full",
        min_length=1,
        description="full, frozen, linear_probe, two_stage, gradual_unfreeze, layerwise_lr, ...",
    )
    head_epochs: int = Field(1, ge=0, description="two_stage: epochs that train the head alone")
    unfreeze_top: int | None = Field(
        None, ge=1, description="two_stage, gradual_unfreeze: top groups to unfreeze (default all)"
    )
    lr_factor: float = Field(
        0.1, gt=0, description="two_stage: backbone groups train at train.lr * lr_factor"
    )
    unfreeze_every: int = Field(
        1, ge=1, description="gradual_unfreeze: one more group from the top every N epochs"
    )
    layer_decay: float | None = Field(
        None,
        gt=0,
        le=1,
        description="group lr = lr * layer_decay ** (distance from the top; head 0); "
        "layerwise_lr (default 0.75), two_stage, gradual_unfreeze",
    )
    cache_dir: str = Field(
        "runs/cache/features", description="linear_probe: folder of cached backbone features"
    )
    lora: LoraSettings = Field(default_factory=LoraSettings)


class RegularizeConfig(StrictModel):
    """Transfer regularisers, applied by every strategy to the parameters it trains."""

    l1: float = Field(0.0, ge=0, description="l1 * sum |w| over the trained parameters")
    l2sp: float = Field(
        0.0, ge=0, description="l2sp / 2 * ||w - w_pretrained||^2 over trained backbone params"
    )
    dropout: float | None = Field(
        None, ge=0, lt=1, description="override p of every dropout layer in the backbone"
    )
    batchnorm: Literal["train", "frozen"] = Field(
        "train", description="frozen: BatchNorm statistics and affine parameters stay pretrained"
    )
    decay_norm_bias: bool = Field(
        False, description="apply weight decay to biases and normalisation weights too"
    )


class SelfTrainingConfig(StrictModel):
    """Pseudo-labels on unlabelled target samples, refreshed at the start of every epoch from
    ``start_epoch`` on: per predicted class the most confident ``fraction`` (growing linearly
    from ``fraction`` to ``max_fraction`` over the remaining epochs), above ``threshold``."""

    enabled: bool = False
    threshold: float = Field(0.9, ge=0, le=1, description="minimum confidence of a pseudo-label")
    class_balanced: bool = Field(
        True, description="select the same fraction of every predicted class (CBST)"
    )
    fraction: float = Field(0.3, gt=0, le=1, description="share of each class at the start")
    max_fraction: float = Field(0.8, gt=0, le=1)
    start_epoch: int = Field(1, ge=0, description="epochs of source-only training first")
    weight: float = Field(1.0, ge=0, description="weight of the pseudo-label loss")


class AdaptConfig(StrictModel):
    """Unsupervised (or semi-supervised) domain adaptation towards ``data.target``."""

    method: str = Field(
        "none", description="none, or a domain loss: dann, cdan, coral, mmd, entropy"
    )
    weight: float = Field(1.0, ge=0, description="weight of the domain loss")
    schedule: Literal["constant", "dann"] = Field(
        "constant", description="dann: weight ramps 0 -> weight as 2/(1+exp(-10p)) - 1"
    )
    options: dict[str, Any] = Field(
        default_factory=dict, description="method options, e.g. {hidden: 512} for dann"
    )
    protocol: Literal["inductive", "transductive"] = Field(
        "inductive",
        description="transductive: all target samples are the unlabelled training pool and "
        "the test set (the JDA/DANN benchmark protocol)",
    )
    select: Literal["source_val", "last", "im", "snd"] = Field(
        "source_val",
        description="checkpoint kept: best source validation loss, the last epoch, or the best "
        "label-free validator score on the unlabelled target pool",
    )
    self_training: SelfTrainingConfig = Field(default_factory=SelfTrainingConfig)

    @property
    def enabled(self) -> bool:
        return self.method != "none" or self.self_training.enabled


class AugmentOp(BaseModel):
    """One augmentation: ``op`` names it, ``p`` is the share of training samples it touches
    (for mixing: the chance per batch), every other key is the op's own parameter, e.g.
    ``{op: rotate, p: 0.5, degrees: 15}``. Names and parameters are checked when a run starts."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)
    op: str
    p: float = Field(1.0, ge=0, le=1)


class RankConfig(StrictModel):
    """``domainfit rank``: candidate backbones scored on the labelled training data."""

    candidates: list[str] = Field(
        default_factory=list,
        description="backbone specs (minilm, hf:..., timm:..., local:...), SPEC#k for layer k "
        "of a Hugging Face text model, or run:PATH for a trained domainfit run",
    )
    by: Literal["logme", "hscore", "knn", "linear_probe", "leep", "nce"] = Field(
        "logme", description="the score the recommendation ranks by"
    )
    max_samples: int = Field(2000, ge=20, description="labelled samples scored (stratified)")


class TrackConfig(StrictModel):
    enabled: bool = True
    uri: str = Field("sqlite:///runs/mlflow.db", description="any MLflow tracking URI")
    experiment: str = "domainfit"
    artifacts: str | None = Field(
        None,
        description="folder for MLflow's artifacts of a new experiment (default: beside the "
        "SQLite file, e.g. runs/mlartifacts; MLflow's own default is ./mlruns)",
    )
    report: bool = Field(
        True, description="write report.html for each run (sweep trials switch it off)"
    )


class RunConfig(StrictModel):
    """A whole run. Sections for models, training and the rest arrive with their issues."""

    name: str = "run"
    seed: int = 0
    data: DataConfig
    clean: CleanConfig = Field(default_factory=CleanConfig)
    split: SplitConfig = Field(default_factory=SplitConfig)
    preprocess: PreprocessConfig = Field(default_factory=PreprocessConfig)
    features: FeaturesConfig = Field(default_factory=FeaturesConfig)
    audit: AuditConfig = Field(default_factory=AuditConfig)
    model: ModelConfig | None = None
    strategy: StrategyConfig = Field(default_factory=StrategyConfig)
    regularize: RegularizeConfig = Field(default_factory=RegularizeConfig)
    adapt: AdaptConfig = Field(default_factory=AdaptConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    track: TrackConfig = Field(default_factory=TrackConfig)
    rank: RankConfig = Field(default_factory=RankConfig)
    augment: list[AugmentOp] = Field(
        default_factory=list, description="training-time augmentation, applied in order"
    )
    sweep: SweepConfig | None = Field(
        None, description="`domainfit sweep`: the search space, metric and budget"
    )
    baselines: list[Literal["scratch", "linear_probe", "source_only"]] = Field(
        default_factory=list,
        description="trained alongside on the same splits; the transfer gain over each, with "
        "a paired bootstrap interval, goes to baselines.json and the report",
    )

    @model_validator(mode="after")
    def _baselines_need_one_split(self) -> RunConfig:
        if self.baselines and self.split.method == "kfold":
            raise ValueError(
                "baselines are compared on one test split, but split.method is kfold; use "
                "a holdout split (stratified, random, group, time) for the guard"
            )
        if self.baselines and self.model is None:
            raise ValueError("baselines need a model section; set model.backbone")
        return self

    @model_validator(mode="after")
    def _adaptation_needs_target(self) -> RunConfig:
        if self.data.target is None:
            if self.adapt.enabled:
                raise ValueError(
                    f"adapt.method={self.adapt.method!r} adapts towards a target domain, but "
                    "data.target is not set; set data.target to the target's data"
                )
            if self.data.target_labels:
                raise ValueError("data.target_labels needs data.target; set data.target")
        if self.adapt.schedule == "dann" and self.adapt.method in ("dann", "cdan"):
            raise ValueError(
                f"adapt.method={self.adapt.method!r} already ramps its gradient reversal "
                "(adapt.options.schedule); adapt.schedule='dann' would ramp it twice; "
                "leave adapt.schedule: constant"
            )
        st = self.adapt.self_training
        if st.max_fraction < st.fraction:
            raise ValueError(
                f"adapt.self_training.max_fraction={st.max_fraction} is below fraction="
                f"{st.fraction}; raise max_fraction"
            )
        if self.data.target_labels >= 1 and self.data.target_labels != int(self.data.target_labels):
            raise ValueError(
                f"data.target_labels={self.data.target_labels}: a count must be whole, a "
                "fraction below 1"
            )
        return self
