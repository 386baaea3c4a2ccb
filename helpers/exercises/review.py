"""Review questions at the end of every chapter: ``review.ch03.r1.check("b")``.

Each question is a :class:`helpers.exercises.question.MultipleChoice` (a number or "which
line is wrong" is asked as options too). Every option carries its own explanation: a wrong answer is told the misconception
behind it, the right one why it is right. The questions aim at the mistakes learners
really make (the README's "where learners get stuck" table). :func:`markdown` writes a
question as the markdown cell a notebook shows above its check.
"""

from __future__ import annotations

from types import SimpleNamespace

from helpers.exercises.question import MultipleChoice

HINT = "Re-read the section of the chapter this question is about, then rule out one option at a time."


def markdown(question: MultipleChoice) -> str:
    """The question as a notebook markdown cell: its number, text and lettered options."""
    number = question.key.rsplit(".r", 1)[1]
    options = "\n".join(f"- **({letter})** {text}" for letter, text in question.options.items())
    return f"**R{number}.** {question.question}\n\n{options}"


def _chapter(key: str, questions: list[tuple[str, dict[str, tuple[str, str]], str]]) -> SimpleNamespace:
    made = {
        f"r{i}": MultipleChoice(
            f"review.{key}.r{i}",
            text,
            {letter: option for letter, (option, _) in options.items()},
            answer,
            explanations={letter: explanation for letter, (_, explanation) in options.items()},
            hints=[HINT],
        )
        for i, (text, options, answer) in enumerate(questions, 1)
    }
    return SimpleNamespace(**made, questions=list(made.values()))


# ---------------------------------------------------------------------------- chapter 00
ch00 = _chapter(
    "ch00",
    [
        (
            "You set `COURSE_SMOKE=1` and open chapter 03. What changes?",
            {
                "a": (
                    "The text and the code cells are shortened",
                    "No: the notebook you read is the same in every mode.",
                ),
                "b": (
                    "Only the sizes: fewer images, one epoch, smaller pictures, so it runs in about a minute",
                    "Right. Smoke mode is for checking that everything runs (a classroom of laptops, the tests); "
                    "its accuracies mean nothing.",
                ),
                "c": (
                    "Training moves to a GPU",
                    "No: smoke mode makes the work smaller, it does not change the device.",
                ),
                "d": (
                    "The accuracies are the ones the text promises, only faster",
                    "No: with a few hundred images and one epoch the numbers are far below the text's. Use full mode to read accuracies.",
                ),
            },
            "b",
        ),
        (
            "There is no network and no mirror in the room. What happens when a notebook needs CIFAR-10?",
            {
                "a": (
                    "The cell fails with a download error",
                    "No: the course never leaves you with a traceback for that.",
                ),
                "b": (
                    "A stand-in with the real shapes and class names is used, and an orange banner says so",
                    "Right. Every cell runs, but accuracies differ from the text until you connect or use a mirror.",
                ),
                "c": (
                    "Random numbers are used without telling you",
                    "No: a stand-in is never silent; the banner says why and how to get the real data.",
                ),
                "d": (
                    "The notebook waits until the network comes back",
                    "No: after a short timeout it falls back to the stand-in.",
                ),
            },
            "b",
        ),
        (
            "What does `python -m helpers doctor` do?",
            {
                "a": ("Trains a small model to test the GPU", "No: it trains nothing."),
                "b": (
                    "Checks versions, GPU, disk, network and mode, and says what to do about each problem",
                    "Right. Run it first on a new machine; it exits with 0 when the course can run.",
                ),
                "c": ("Installs TensorFlow", "No: it only reports. `python3 run.py` installs."),
                "d": (
                    "Repairs notebooks that have outputs",
                    "No: that is `python -m helpers notebooks --write`, for authors.",
                ),
            },
            "b",
        ),
        (
            "A check prints *Not yet* with a message. What is the best next step?",
            {
                "a": (
                    "Call `.solution()` straight away",
                    "You may, but you would learn less: the message usually names the exact mistake.",
                ),
                "b": (
                    "Read the message, fix what it names, and check again; `.hint()` if still stuck",
                    "Right. Each message is written for one typical mistake.",
                ),
                "c": ("Restart the kernel", "No: the check has nothing to do with the kernel's state."),
                "d": (
                    "Switch to smoke mode",
                    "No: smoke mode changes the data sizes, not whether your answer is right.",
                ),
            },
            "b",
        ),
    ],
)

# ---------------------------------------------------------------------------- chapter 01
ch01 = _chapter(
    "ch01",
    [
        (
            "Each image shows exactly one of 10 classes, and the labels are integers 0-9. Which output layer and loss?",
            {
                "a": (
                    "`Dense(10, activation='sigmoid')` + binary cross-entropy",
                    "That is multi-label: each class judged on its own, so the scores need not add up to 1.",
                ),
                "b": (
                    "`Dense(10, activation='softmax')` + sparse categorical cross-entropy",
                    "Right. Softmax makes one distribution over the classes, and the *sparse* loss takes integer labels.",
                ),
                "c": (
                    "`Dense(1, activation='sigmoid')` + binary cross-entropy",
                    "That is for two classes (yes/no), not ten.",
                ),
                "d": (
                    "`Dense(10, activation='softmax')` + categorical cross-entropy",
                    "Close, but plain categorical cross-entropy expects one-hot labels (rows like [0, 0, 1, ...]); with integers use the sparse one.",
                ),
            },
            "b",
        ),
        (
            "A photo can show a cat *and* a dog, and you want both tags. What is the output?",
            {
                "a": (
                    "Softmax over the tags",
                    "No: softmax makes the tags compete, their probabilities add up to 1, so two tags cannot both be near 1.",
                ),
                "b": (
                    "A sigmoid per tag + binary cross-entropy per tag",
                    "Right. Each tag gets its own yes/no probability: this is multi-label classification.",
                ),
                "c": (
                    "Sparse categorical cross-entropy with label 'cat+dog'",
                    "That makes 'cat+dog' a class of its own: every combination would need its own class.",
                ),
                "d": ("ReLU outputs", "No: ReLU outputs are not probabilities and have no upper limit."),
            },
            "b",
        ),
        (
            "CIFAR-10's `y_train` has shape `(50000, 1)`, and `np.bincount(y_train)` fails. Why?",
            {
                "a": ("The labels are floats", "No: they are integers (uint8)."),
                "b": (
                    "`bincount` needs a 1-D array: use `y_train.ravel()`",
                    "Right. Keras returns CIFAR labels as a column; `.ravel()` (or `.flatten()`) makes them 1-D.",
                ),
                "c": ("The labels must be one-hot first", "No: bincount counts integer labels directly."),
                "d": ("50,000 is too many values", "No: bincount handles millions."),
            },
            "b",
        ),
        (
            "Which `tf.data` pipeline is right for a dataset that fits in memory?",
            {
                "a": (
                    "`ds.shuffle(1000).cache().batch(32)`",
                    "Shuffling before caching stores one shuffled order: every later epoch replays the same order.",
                ),
                "b": (
                    "`ds.cache().shuffle(1000).batch(32).prefetch(tf.data.AUTOTUNE)`",
                    "Right. Cache the decoded images once, reshuffle every epoch, batch, and prepare the next batch while the model trains.",
                ),
                "c": (
                    "`ds.batch(32).prefetch(tf.data.AUTOTUNE).cache().shuffle(1)`",
                    "Shuffling with a buffer of 1 does not shuffle at all, and it shuffles whole batches.",
                ),
                "d": ("Order does not matter", "It does: it changes both speed and how well the data are shuffled."),
            },
            "b",
        ),
        (
            "A class folder holds a `.ipynb_checkpoints` folder and one broken JPEG. What should a good loader do?",
            {
                "a": ("Stop with an error at the broken file", "One bad file should not stop a whole dataset."),
                "b": (
                    "Skip both without a word",
                    "Skipping silently hides a problem you may want to fix (maybe many files are broken).",
                ),
                "c": (
                    "Skip hidden folders, report the broken file by name, and carry on",
                    "Right. Hidden folders are not data; an unreadable file is worth knowing about.",
                ),
                "d": (
                    "Delete the broken file",
                    "Never: a loader reads, it does not change your data. You decide what to delete.",
                ),
            },
            "c",
        ),
    ],
)

# ---------------------------------------------------------------------------- chapter 02
ch02 = _chapter(
    "ch02",
    [
        (
            "A 32x32x3 image goes through `Conv2D(16, 3, padding='valid')`. What is the output shape?",
            {
                "a": (
                    "32x32x16",
                    "That is with padding='same'. 'valid' means no padding, so the 3x3 kernel fits 30 times along each side.",
                ),
                "b": ("30x30x16", "Right: 32 - 3 + 1 = 30, and one channel per filter."),
                "c": (
                    "30x30x3",
                    "The number of output channels is the number of filters (16), not the input's channels.",
                ),
                "d": ("16x16x16", "Halving is what a stride of 2 or a 2x2 pooling does, not a stride-1 convolution."),
            },
            "b",
        ),
        (
            "How many parameters has `Conv2D(16, 3)` on a 3-channel input?",
            {
                "a": ("144", "3x3x16 forgets that each kernel spans all 3 input channels, and the biases."),
                "b": ("432", "3x3x3x16 is the weights; each of the 16 filters also has a bias."),
                "c": ("448", "Right: 3x3x3 weights per filter, 16 filters, plus 16 biases: 432 + 16."),
                "d": (
                    "It depends on the image size",
                    "No: the same kernels slide over every position, whatever the image size. That is parameter sharing.",
                ),
            },
            "c",
        ),
        (
            "What does `MaxPooling2D(2)` do to a 28x28x16 feature map?",
            {
                "a": ("28x28x8", "Pooling never changes the number of channels; it works on each channel separately."),
                "b": ("14x14x16", "Right: each 2x2 window becomes its largest value, so height and width halve."),
                "c": (
                    "27x27x16",
                    "That would be a 2x2 window moved by 1 pixel; MaxPooling2D(2) moves it by 2 (stride = pool size).",
                ),
                "d": ("14x14x32", "Pooling has no filters and cannot add channels."),
            },
            "b",
        ),
        (
            "Why does a CNN need far fewer parameters than a dense network on the same images?",
            {
                "a": ("Its numbers are stored with fewer bits", "No: both use float32."),
                "b": (
                    "The same small kernel is reused at every position (parameter sharing, local connections)",
                    "Right. A dense layer has a weight per input pixel per unit; a convolution has a few weights per filter.",
                ),
                "c": ("It ignores the colours", "No: the first kernels span all colour channels."),
                "d": (
                    "Pooling removes parameters",
                    "Pooling has no parameters to remove; it shrinks the feature maps.",
                ),
            },
            "b",
        ),
        (
            "Which line is wrong? (One grey 28x28 image and one 3x3 kernel through `tf.nn.conv2d`.)\n\n"
            "```python\n"
            "1  image = np.random.rand(28, 28).astype('float32')\n"
            "2  kernel = np.array([[1, 0, -1]] * 3, dtype='float32')   # 3x3 edge filter\n"
            "3  x = image[None, :, :, None]                            # add batch and channel axes\n"
            "4  k = kernel[None, None, :, :]                           # kernel for tf.nn.conv2d\n"
            "5  y = tf.nn.conv2d(x, k, strides=1, padding='SAME')\n"
            "```",
            {
                "a": ("Line 2", "It builds a valid 3x3 array (three identical rows)."),
                "b": ("Line 3", "Right shape: (1, 28, 28, 1), batch first and channels last."),
                "c": (
                    "Line 4",
                    "Right. `tf.nn.conv2d` wants kernels as (height, width, in_channels, out_channels): `kernel[:, :, None, None]`.",
                ),
                "d": ("Line 5", "The call is fine once the kernel has the right layout."),
            },
            "c",
        ),
    ],
)

# ---------------------------------------------------------------------------- chapter 03
ch03 = _chapter(
    "ch03",
    [
        (
            "Which line of this training step is wrong?\n\n"
            "```python\n"
            "1  with tf.GradientTape() as tape:\n"
            "2      logits = model(x, training=False)\n"
            "3      loss = loss_fn(y, logits)\n"
            "4  grads = tape.gradient(loss, model.trainable_variables)\n"
            "5  optimizer.apply_gradients(zip(grads, model.trainable_variables))\n"
            "```",
            {
                "a": (
                    "Line 2",
                    "Right. In a training step use `training=True`: dropout must drop and BatchNorm must use batch statistics.",
                ),
                "b": ("Line 3", "The loss of the labels and the logits is what you differentiate: fine."),
                "c": ("Line 4", "The gradients with respect to the trainable weights: fine."),
                "d": ("Line 5", "`apply_gradients` takes (gradient, variable) pairs: fine."),
            },
            "a",
        ),
        (
            "Training accuracy 98% and still rising; validation accuracy 65% and falling; validation loss rising since epoch 8. What do you do?",
            {
                "a": (
                    "Train longer",
                    "The model is overfitting: more epochs make the gap wider, not the model better.",
                ),
                "b": ("Make the network bigger", "More capacity memorises the training images even faster."),
                "c": (
                    "Keep the weights of the best validation epoch (EarlyStopping with restore_best_weights) and add augmentation or dropout",
                    "Right. The curves say overfitting: stop at the best epoch and make memorising harder.",
                ),
                "d": ("Raise the learning rate", "That changes how fast it fits, not what it fits; overfitting stays."),
            },
            "c",
        ),
        (
            "The last layer is `Dense(10)` with no activation. Which loss?",
            {
                "a": (
                    "`SparseCategoricalCrossentropy()`",
                    "Its default expects probabilities; fed raw scores (logits) it trains badly and silently.",
                ),
                "b": (
                    "`SparseCategoricalCrossentropy(from_logits=True)`",
                    "Right. The loss applies softmax itself, in a numerically safer way.",
                ),
                "c": (
                    "`BinaryCrossentropy(from_logits=True)`",
                    "That is for yes/no (or multi-label) outputs, not one class out of ten.",
                ),
                "d": ("`MeanSquaredError()`", "Squared error on class scores learns classification slowly and poorly."),
            },
            "b",
        ),
        (
            "A model has 80% top-1 and 95% top-3 accuracy. What does the 95% mean?",
            {
                "a": (
                    "For 95% of the images, the true class is among the three highest scores",
                    "Right. Top-3 accuracy forgives the model when its first guess is wrong but its second or third is right.",
                ),
                "b": (
                    "The model is 95% confident on average",
                    "No: accuracy counts right answers; confidence is a different thing.",
                ),
                "c": ("Three models agree 95% of the time", "No: it is one model's three best guesses."),
                "d": ("It is the accuracy on three of the classes", "No: it is over all classes."),
            },
            "a",
        ),
    ],
)

# ---------------------------------------------------------------------------- chapter 04
ch04 = _chapter(
    "ch04",
    [
        (
            "When do Keras augmentation layers such as `RandomFlip` change the images?",
            {
                "a": ("Always", "No: that would make predictions random."),
                "b": (
                    "Only in training (`fit`, or a call with `training=True`)",
                    "Right. In `predict` and `evaluate` they pass images through unchanged.",
                ),
                "c": ("Only in `predict`", "The opposite: augmentation is for training."),
                "d": (
                    "Only in the first epoch",
                    "No: every training epoch sees newly augmented images; that is the point.",
                ),
            },
            "b",
        ),
        (
            "With strong rotation, zoom, contrast and shifts on 32x32 images, a small CNN now reaches only 59% training accuracy. What happened?",
            {
                "a": (
                    "Augmentation always helps; train longer",
                    "Here the training accuracy itself is low: the model underfits.",
                ),
                "b": (
                    "Too much augmentation for tiny images: the task got harder than the test, and the small net underfits; use milder augmentation (flip + shift)",
                    "Right. On 32x32 pixels a rotation or zoom destroys much of the little detail there is.",
                ),
                "c": (
                    "Augmentation leaked test images into training",
                    "No: augmentation only transforms the training images.",
                ),
                "d": ("BatchNorm is broken", "Nothing points to BatchNorm; the augmentation is what changed."),
            },
            "b",
        ),
        (
            "Without augmentation: training 93%, validation 55%. With flip + shift: training 63%, validation 57%. Which reading is right?",
            {
                "a": (
                    "Augmentation made the model better: less overfitting (gap 38 -> 6 points) and higher validation accuracy",
                    "Right. Validation accuracy is what counts; the lower training accuracy only shows it memorises less.",
                ),
                "b": (
                    "Augmentation made the model worse: its training accuracy fell",
                    "Training accuracy on augmented images is not the goal; validation accuracy rose.",
                ),
                "c": ("Nothing changed", "The gap shrank from 43 to 11 points and validation accuracy rose by 4."),
                "d": (
                    "The validation set must be augmented too",
                    "Never: validation measures the model on the real, unchanged images.",
                ),
            },
            "a",
        ),
        (
            "You classify road signs that point left or right. Which augmentation would harm the model?",
            {
                "a": ("`RandomContrast(0.2)`", "Contrast changes keep the direction of the arrow."),
                "b": (
                    "`RandomFlip('horizontal')`",
                    "Right. A flipped left arrow is a right arrow with the old label: you would teach wrong labels.",
                ),
                "c": ("`RandomZoom(0.1)`", "A small zoom keeps the direction."),
                "d": ("`RandomTranslation(0.1, 0.1)`", "A small shift keeps the direction."),
            },
            "b",
        ),
    ],
)

# ---------------------------------------------------------------------------- chapter 05
ch05 = _chapter(
    "ch05",
    [
        (
            "You feed 0-255 pixels to a pretrained MobileNetV2 base. What goes in between?",
            {
                "a": (
                    "`Rescaling(1/255)`",
                    "That gives 0-1, but MobileNetV2 was trained on -1 to 1: nothing crashes, accuracy is just lower.",
                ),
                "b": (
                    "`keras.applications.mobilenet_v2.preprocess_input` (to -1..1)",
                    "Right. Each backbone must see pixels prepared exactly as in its ImageNet training.",
                ),
                "c": (
                    "Nothing",
                    "MobileNetV2 does not rescale itself (EfficientNet does); raw 0-255 values are far outside what it was trained on.",
                ),
                "d": (
                    "Both `Rescaling(1/255)` and `preprocess_input`",
                    "Twice is wrong too: the pixels end up between -1 and about -0.99.",
                ),
            },
            "b",
        ),
        (
            "Fine-tuning: what is missing before the last line?\n\n"
            "```python\n"
            "base.trainable = True\n"
            "for layer in base.layers[:-20]:\n"
            "    layer.trainable = False\n"
            "history = model.fit(train_ds, validation_data=val_ds, epochs=10)\n"
            "```",
            {
                "a": ("Nothing", "The model must be compiled again for the new `trainable` settings to take effect."),
                "b": (
                    "`model.compile(...)` with a 10-100x lower learning rate",
                    "Right. Recompiling makes Keras see the unfrozen layers, and the low rate keeps the pretrained weights from being wrecked.",
                ),
                "c": ("`base.trainable = False` again", "That would undo the fine-tuning."),
                "d": ("Reloading the ImageNet weights", "That would throw away the head you just trained."),
            },
            "b",
        ),
        (
            "You have 100 photos per class of everyday objects. Where do you start?",
            {
                "a": (
                    "Train a CNN from scratch",
                    "With 100 photos per class a scratch CNN learns little; a pretrained base already knows how to see.",
                ),
                "b": (
                    "Feature extraction with a frozen pretrained base, then fine-tune its top layers at a low learning rate",
                    "Right. That is the recipe: cheap and safe first, then a few more points.",
                ),
                "c": (
                    "Unfreeze the whole base from the start at 1e-3",
                    "A random head sends large gradients into the base and wrecks its features.",
                ),
                "d": (
                    "Fine-tune only the first layers",
                    "The first layers (edges, colours) are the most general: keep them frozen; the top layers are the ones to adapt.",
                ),
            },
            "b",
        ),
        (
            "Why call the base with `base(x, training=False)`?",
            {
                "a": (
                    "It freezes the weights",
                    "Freezing is `base.trainable = False`; `training=False` is about how layers behave.",
                ),
                "b": (
                    "So its BatchNorm layers keep using ImageNet's statistics, even after you unfreeze layers for fine-tuning",
                    "Right. Batch statistics of a few dozen of your photos are poor estimates, and updating them shifts every feature the head learned.",
                ),
                "c": ("It makes training faster", "Speed is not the reason."),
                "d": (
                    "It switches off the augmentation",
                    "Augmentation comes before the base and has its own training flag.",
                ),
            },
            "b",
        ),
        (
            "Offline, the weights could not be loaded and the banner says the base is random. What will feature extraction give?",
            {
                "a": ("About the same accuracy", "No: all the benefit comes from the ImageNet weights."),
                "b": (
                    "Far worse results: a random frozen base computes features that mean nothing",
                    "Right. All the gain of transfer learning comes from the ImageNet weights; a random frozen base turns "
                    "every photo into noise the head cannot learn much from.",
                ),
                "c": (
                    "Better results, as nothing from ImageNet gets in the way",
                    "No: the frozen random base never learns, only the head does.",
                ),
                "d": ("An error", "No: it runs, which is why the banner is there."),
            },
            "b",
        ),
    ],
)

# ---------------------------------------------------------------------------- chapter 06
ch06 = _chapter(
    "ch06",
    [
        (
            "1% of scans show a disease. A model that always answers 'healthy' has what accuracy and what recall for the disease?",
            {
                "a": ("50% and 50%", "Accuracy counts right answers: 99 of 100 scans are healthy."),
                "b": (
                    "99% accuracy, 0% recall",
                    "Right. High accuracy, and it finds no sick patient at all: accuracy misleads on imbalanced data.",
                ),
                "c": (
                    "1% accuracy, 100% recall",
                    "The other way round: it is right on all the healthy scans and never finds a sick one.",
                ),
                "d": ("It cannot be computed", "It can: accuracy 99/100; recall 0 of the sick scans found."),
            },
            "b",
        ),
        (
            "Which line is wrong?\n\n"
            "```python\n"
            "1  probabilities = model.predict(x_test)\n"
            "2  print(classification_report(y_test, probabilities))\n"
            "```",
            {
                "a": ("Line 1", "`predict` returns one row of probabilities per image: fine."),
                "b": (
                    "Line 2",
                    "Right. The report compares labels with labels: pass `probabilities.argmax(axis=1)`.",
                ),
                "c": ("Neither", "scikit-learn refuses a mix of labels and probability rows."),
            },
            "b",
        ),
        (
            "The class 'cat' has precision 0.95 and recall 0.60. What does that mean?",
            {
                "a": (
                    "When the model says 'cat' it is almost always right, but it misses 40% of the cats",
                    "Right. Low recall: cats are often predicted as something else (false negatives).",
                ),
                "b": (
                    "It finds 95% of the cats, but many of its 'cat' answers are wrong",
                    "That is high recall and low precision: the other way round.",
                ),
                "c": ("Its accuracy on cats is 77.5%", "Precision and recall are not averaged into accuracy."),
                "d": ("The model is well calibrated", "Calibration is about confidences, not about these counts."),
            },
            "a",
        ),
        (
            "On imbalanced data, macro F1 is much lower than weighted F1. Why?",
            {
                "a": (
                    "Macro F1 counts every class equally, so poorly recognised rare classes pull it down",
                    "Right. Weighted F1 weights classes by their size, so the big, easy classes dominate it.",
                ),
                "b": ("Macro F1 is computed on fewer images", "Both use the same predictions."),
                "c": ("One of them is computed wrongly", "Both are right; they answer different questions."),
                "d": ("Weighted F1 ignores the rare classes", "It includes them, with a small weight."),
            },
            "a",
        ),
        (
            "In a confusion matrix normalised by rows (true classes), what is on the diagonal?",
            {
                "a": ("Each class's precision", "Precision would divide by columns (what was predicted)."),
                "b": (
                    "Each class's recall",
                    "Right. Each row is one true class; the diagonal is the share of it that was found.",
                ),
                "c": ("Each class's F1", "F1 combines precision and recall; no single normalisation shows it."),
                "d": ("The accuracy", "Accuracy is the sum of the diagonal of the counts divided by all images."),
            },
            "b",
        ),
    ],
)

# ---------------------------------------------------------------------------- chapter 07
ch07 = _chapter(
    "ch07",
    [
        (
            "`model.predict(image)` with one image of shape (224, 224, 3) fails. What fixes it?",
            {
                "a": (
                    "`image[None]` (a batch of one: shape (1, 224, 224, 3))",
                    "Right. Models always take a batch; the first axis counts images.",
                ),
                "b": ("`image.reshape(224, 224)`", "That drops the colours; the model still needs the batch axis."),
                "c": ("`image / 255`", "Scaling does not change the shape (and the model may rescale by itself)."),
                "d": ("`image.T`", "Transposing mixes up height, width and channels."),
            },
            "a",
        ),
        (
            "The model has `Rescaling(1/255)` inside. The app divides photos by 255 before predicting. What happens?",
            {
                "a": (
                    "Nothing: dividing twice is harmless",
                    "The model then sees pixels between 0 and 0.004: nearly black images.",
                ),
                "b": (
                    "Predictions are quietly wrong: the model sees almost black images",
                    "Right. Keep preprocessing in one place, preferably inside the model, and feed it raw 0-255 pixels.",
                ),
                "c": ("An error about the input range", "Nothing checks the range; that is why this bug is so common."),
                "d": ("Better predictions", "No: the images no longer look like the training images at all."),
            },
            "b",
        ),
        (
            "`keras.saving.load_model` refuses a downloaded `.keras` file because of a `Lambda` layer. What do you do?",
            {
                "a": (
                    "Load it with `safe_mode=False`",
                    "Only for files you made yourself: a Lambda layer stores Python code, and that code would run on your machine.",
                ),
                "b": (
                    "Ask for (or make) a version without `Lambda`: a built-in layer or a registered Layer subclass",
                    "Right. Safe mode refuses code from files; models you share should not need it.",
                ),
                "c": (
                    "Rename the file to `.h5`",
                    "The format does not remove the stored code, and `.h5` is the old format.",
                ),
                "d": ("Retrain without saving", "That avoids the question but loses the model."),
            },
            "b",
        ),
        (
            "How do you know an exported TFLite model is right?",
            {
                "a": ("It is smaller than the `.keras` file", "Size says nothing about its answers."),
                "b": (
                    "The converter printed no error",
                    "A conversion can succeed and still compute something different (for example with preprocessing left out).",
                ),
                "c": (
                    "It gives the same outputs as the Keras model on the same images (within about 1e-4) and the same top class",
                    "Right. Compare the two models' outputs on real images.",
                ),
                "d": ("It loads in the interpreter", "Loading proves the file is valid, not that its answers are."),
            },
            "c",
        ),
    ],
)

# ---------------------------------------------------------------------------- chapter 08
ch08 = _chapter(
    "ch08",
    [
        (
            "For photos of huskies, the Grad-CAM heatmap lights up the snow, not the dog. What does that tell you?",
            {
                "a": (
                    "The model is wrong about huskies",
                    "The predictions may all be right; the map is about where the evidence came from.",
                ),
                "b": (
                    "The model may rely on the snow; test it on huskies without snow and other animals on snow",
                    "Right. A heatmap suggests a hypothesis; only new photos prove it.",
                ),
                "c": ("Grad-CAM is broken", "A map on the background is a classic, real finding."),
                "d": (
                    "Nothing: heatmaps are decoration",
                    "They are evidence worth testing, not proof, and not nothing.",
                ),
            },
            "b",
        ),
        (
            "Among its predictions made with about 90% confidence, the model is right only 70% of the time. What is that, and what fixes it cheaply?",
            {
                "a": (
                    "Overconfidence; temperature scaling (dividing the logits by a T > 1 fitted on the validation set)",
                    "Right. One number, fitted after training, makes the confidences honest without changing any prediction.",
                ),
                "b": (
                    "Underconfidence; more epochs",
                    "Right less often than it claims is overconfidence, and more training usually makes it worse.",
                ),
                "c": (
                    "Overfitting; delete the hard images",
                    "Deleting data hides the problem; calibration is fixed after training.",
                ),
                "d": (
                    "Nothing to fix: accuracy is what counts",
                    "If anyone acts on the confidences (a threshold, a human review), they must be honest.",
                ),
            },
            "a",
        ),
        (
            "One class is rare in training. Which is a correct way to weight it with `class_weight`?",
            {
                "a": (
                    "A weight proportional to the class's count",
                    "Inverted: that makes the common classes count even more.",
                ),
                "b": (
                    "A weight of total / (number of classes x class count)",
                    "Right. Rare classes get large weights, so every class counts the same in the loss.",
                ),
                "c": ("The same weight for every class", "That is doing nothing."),
                "d": ("Weight 0 for the rare class", "That removes it from training altogether."),
            },
            "b",
        ),
        (
            "In a learning-rate range test the loss falls, reaches its lowest point at 1e-2, then shoots up. Which rate do you pick?",
            {
                "a": (
                    "1e-2, where the loss is lowest",
                    "At the minimum the loss is about to blow up: too close to the edge.",
                ),
                "b": (
                    "About ten times lower than the minimum, around 1e-3, where the loss falls steeply",
                    "Right. Pick a rate from the steep, steady descent, safely below where training becomes unstable.",
                ),
                "c": ("The largest rate tested", "There the loss has exploded: training would diverge."),
                "d": ("The smallest rate tested", "There the loss barely moves: training would be very slow."),
            },
            "b",
        ),
    ],
)

# ---------------------------------------------------------------------------- chapter 09
ch09 = _chapter(
    "ch09",
    [
        (
            "The same photo is in your folder twice, and one copy lands in training, the other in the test photos. What happens?",
            {
                "a": (
                    "Nothing: it is only one photo",
                    "Many duplicates add up; even one is a test question the model has seen.",
                ),
                "b": (
                    "The test accuracy comes out too optimistic",
                    "Right. The model is rewarded for remembering a photo it saw; that is why the checks keep one copy.",
                ),
                "c": ("Training fails", "Training runs normally; the damage is to the honesty of the test."),
                "d": ("The model learns that class better", "A repeated photo teaches nothing new."),
            },
            "b",
        ),
        (
            "Why split 20 photos per class with a *stratified* split?",
            {
                "a": ("It is faster", "Speed is the same."),
                "b": (
                    "Every part gets the same share of every class, so no class ends up with 0 or 6 test photos by chance",
                    "Right. With few photos, a plain random split can leave a class out of the test set entirely.",
                ),
                "c": (
                    "It puts the hardest photos into the test set",
                    "No: it only keeps class proportions; which photos go where is random (seeded).",
                ),
                "d": ("It removes duplicates", "That is the data checks' job, before the split."),
            },
            "b",
        ),
        (
            "Your classifier of three cat breeds says 'siamese, 97%' for a photo of a car. Why?",
            {
                "a": (
                    "The model is broken",
                    "It works as designed: it is just being asked a question outside its classes.",
                ),
                "b": (
                    "Softmax spreads 100% over the known classes; there is no 'none of these' answer",
                    "Right. A classifier always picks one of its classes. Say so in the model card, or add an 'other' class with varied photos.",
                ),
                "c": (
                    "The car looks like a siamese cat",
                    "The confidence does not mean the photos look alike; it only compares the three known classes.",
                ),
                "d": (
                    "The TFLite export changed the model",
                    "The Keras model answers the same; the export was checked.",
                ),
            },
            "b",
        ),
        (
            "You chose the number of epochs and the settings by looking at the validation photos. Which accuracy goes into the model card?",
            {
                "a": (
                    "The validation accuracy",
                    "Your choices were tuned to these photos, so their accuracy is a little optimistic.",
                ),
                "b": (
                    "The training accuracy",
                    "The model has seen these photos; their accuracy says little about new ones.",
                ),
                "c": (
                    "The test accuracy, measured once at the end",
                    "Right. The test photos played no part in any decision, so they estimate how the model does on new photos.",
                ),
                "d": (
                    "The best of the three",
                    "Picking the best number is exactly the optimism the test set is there to avoid.",
                ),
            },
            "c",
        ),
    ],
)

CHAPTERS = {f"ch{n:02d}": globals()[f"ch{n:02d}"] for n in range(10)}
"""Every chapter's review questions, keyed 'ch00' ... 'ch09'."""


def notebook_cells(chapter: str) -> list[dict]:
    """The review section appended at the end of a chapter's solutions notebook (cell ids ``review-chNN-*``)."""
    import nbformat

    questions = CHAPTERS[chapter].questions
    intro = (
        "## Review questions\n\n"
        f"{len(questions)} short questions on this chapter. Put the letter of your answer in `answer` "
        "and run the cell: every answer, right or wrong, comes with an explanation."
    )
    cells = [nbformat.v4.new_markdown_cell(intro), nbformat.v4.new_code_cell("from helpers.exercises import review")]
    ids = [f"review-{chapter}", f"review-{chapter}-import"]
    for question in questions:
        number = question.key.rsplit(".", 1)[1]
        cells.append(nbformat.v4.new_markdown_cell(markdown(question)))
        cells.append(
            nbformat.v4.new_code_cell(
                f'### BEGIN SOLUTION\nanswer = "{question.answer}"  # the letter of the option you choose, in quotes\n### END SOLUTION\n{question.key}.check(answer)'
            )
        )
        ids += [f"review-{chapter}-{number}", f"review-{chapter}-{number}-check"]
    for cell, cell_id in zip(cells, ids, strict=True):
        cell["id"] = cell_id
    return cells
