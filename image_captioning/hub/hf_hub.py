"""`hf://owner/repo[@revision]` model folders on the Hugging Face Hub, through `huggingface_hub`.

Caching, revisions, authentication (`HF_TOKEN`), mirrors (`HF_ENDPOINT`) and offline mode (`HF_HUB_OFFLINE=1`)
are `huggingface_hub`'s; this module only names the files of a model folder and turns its errors into advice.
"""

from pathlib import Path

from huggingface_hub import HfApi, constants, hf_hub_download
from huggingface_hub.errors import (
    LocalEntryNotFoundError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from image_captioning.hub.registry import HF_PREFIX, MODEL_CONFIG_FILE

# What `ClipCap.save_pretrained` writes and `load_directory` reads; the first one pins the revision's commit.
MODEL_FILES = (MODEL_CONFIG_FILE, "model.weights.h5", "vocab.json", "merges.txt")


def parse_hf_uri(uri):
    """'hf://owner/repo@rev' -> ('owner/repo', 'rev'); revision None when not given."""
    if not uri.startswith(HF_PREFIX):
        raise ValueError(f"{uri!r} is not an {HF_PREFIX}owner/repo[@revision] address.")
    repo_id, _, revision = uri[len(HF_PREFIX):].partition("@")
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise ValueError(f"{uri!r}: expected {HF_PREFIX}owner/repo or {HF_PREFIX}owner/repo@revision.")
    return repo_id, revision or None


def download_model(uri):
    """The local snapshot folder (in the `huggingface_hub` cache) holding the model files of `uri`."""
    repo_id, revision = parse_hf_uri(uri)
    try:
        config = Path(hf_hub_download(repo_id, MODEL_FILES[0], revision=revision))
        # Later files by commit, so a push between two downloads cannot mix two versions.
        commit = config.parent.name
        for filename in MODEL_FILES[1:]:
            hf_hub_download(repo_id, filename, revision=commit)
    except RevisionNotFoundError as error:
        raise FileNotFoundError(f"{uri}: the repository {repo_id} has no revision {revision!r}.") from error
    except RepositoryNotFoundError as error:
        raise FileNotFoundError(
            f"{uri}: no model repository {repo_id} on {constants.ENDPOINT}, or it is private or gated "
            "(log in with `hf auth login` or set HF_TOKEN)."
        ) from error
    except LocalEntryNotFoundError as error:
        raise FileNotFoundError(
            f"{uri} is not in the Hugging Face cache ({constants.HF_HUB_CACHE}) and the Hub cannot be reached "
            "(HF_HUB_OFFLINE is set, or no connection): load it once online."
        ) from error
    except RemoteEntryNotFoundError as error:
        raise FileNotFoundError(
            f"{uri} is not a ClipCap model folder: it needs {', '.join(MODEL_FILES)} "
            f"(as written by save_pretrained / push_to_hub). {error}"
        ) from error
    return config.parent


def upload_model_folder(folder, repo_id, *, revision=None, private=None, token=None, commit_message=None):
    """Creates `repo_id` if needed and commits the files of `folder` to it; returns the `CommitInfo`."""
    api = HfApi(token=token)
    api.create_repo(repo_id, private=private, exist_ok=True)
    return api.upload_folder(repo_id=repo_id, folder_path=folder, revision=revision, commit_message=commit_message)
