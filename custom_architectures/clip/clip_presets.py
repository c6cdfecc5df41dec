"""Configurations of OpenAI's released CLIP models and where OpenAI distributes their weights.

The numbers are those OpenAI's `build_model` infers from each checkpoint. Each URL contains the
file's sha256 as its second-to-last path component (OpenAI's `clip.py` checks downloads against it).
"""

_OPENAI_URL = "https://openaipublic.azureedge.net/clip/models"

CLIP_CONFIGS = {
    "ViT-B/32": {
        "image_encoder": {
            "type": "vit", "input_resolution": 224, "patch_size": 32, "hidden_dim": 768, "num_layers": 12,
            "num_heads": 12, "output_dim": 512,
        },
        "text_encoder": {
            "max_sequence_length": 77, "vocabulary_size": 49408, "hidden_dim": 512, "num_layers": 12,
            "num_heads": 8, "output_dim": 512,
        },
        "url": f"{_OPENAI_URL}/40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af/ViT-B-32.pt",
    },
    "ViT-B/16": {
        "image_encoder": {
            "type": "vit", "input_resolution": 224, "patch_size": 16, "hidden_dim": 768, "num_layers": 12,
            "num_heads": 12, "output_dim": 512,
        },
        "text_encoder": {
            "max_sequence_length": 77, "vocabulary_size": 49408, "hidden_dim": 512, "num_layers": 12,
            "num_heads": 8, "output_dim": 512,
        },
        "url": f"{_OPENAI_URL}/5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f/ViT-B-16.pt",
    },
    "ViT-L/14": {
        "image_encoder": {
            "type": "vit", "input_resolution": 224, "patch_size": 14, "hidden_dim": 1024, "num_layers": 24,
            "num_heads": 16, "output_dim": 768,
        },
        "text_encoder": {
            "max_sequence_length": 77, "vocabulary_size": 49408, "hidden_dim": 768, "num_layers": 12,
            "num_heads": 12, "output_dim": 768,
        },
        "url": f"{_OPENAI_URL}/b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836/ViT-L-14.pt",
    },
    "ViT-L/14@336px": {
        "image_encoder": {
            "type": "vit", "input_resolution": 336, "patch_size": 14, "hidden_dim": 1024, "num_layers": 24,
            "num_heads": 16, "output_dim": 768,
        },
        "text_encoder": {
            "max_sequence_length": 77, "vocabulary_size": 49408, "hidden_dim": 768, "num_layers": 12,
            "num_heads": 12, "output_dim": 768,
        },
        "url": f"{_OPENAI_URL}/3035c92b350959924f9f00213499208652fc7ea050643e8b385c2dac08641f02/ViT-L-14-336px.pt",
    },
    "RN50": {
        "image_encoder": {
            "type": "resnet", "stackwise_num_blocks": (3, 4, 6, 3), "output_dim": 1024, "num_heads": 32,
            "input_resolution": 224, "stem_filters": 64,
        },
        "text_encoder": {
            "max_sequence_length": 77, "vocabulary_size": 49408, "hidden_dim": 512, "num_layers": 12,
            "num_heads": 8, "output_dim": 1024,
        },
        "url": f"{_OPENAI_URL}/afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762/RN50.pt",
    },
    "RN101": {
        "image_encoder": {
            "type": "resnet", "stackwise_num_blocks": (3, 4, 23, 3), "output_dim": 512, "num_heads": 32,
            "input_resolution": 224, "stem_filters": 64,
        },
        "text_encoder": {
            "max_sequence_length": 77, "vocabulary_size": 49408, "hidden_dim": 512, "num_layers": 12,
            "num_heads": 8, "output_dim": 512,
        },
        "url": f"{_OPENAI_URL}/8fa8567bab74a42d41c5915025a8e4538c3bdbe8804a470a72f30b0d94fab599/RN101.pt",
    },
    "RN50x4": {
        "image_encoder": {
            "type": "resnet", "stackwise_num_blocks": (4, 6, 10, 6), "output_dim": 640, "num_heads": 40,
            "input_resolution": 288, "stem_filters": 80,
        },
        "text_encoder": {
            "max_sequence_length": 77, "vocabulary_size": 49408, "hidden_dim": 640, "num_layers": 12,
            "num_heads": 10, "output_dim": 640,
        },
        "url": f"{_OPENAI_URL}/7e526bd135e493cef0776de27d5f42653e6b4c8bf9e0f653bb11773263205fdd/RN50x4.pt",
    },
    "RN50x16": {
        "image_encoder": {
            "type": "resnet", "stackwise_num_blocks": (6, 8, 18, 8), "output_dim": 768, "num_heads": 48,
            "input_resolution": 384, "stem_filters": 96,
        },
        "text_encoder": {
            "max_sequence_length": 77, "vocabulary_size": 49408, "hidden_dim": 768, "num_layers": 12,
            "num_heads": 12, "output_dim": 768,
        },
        "url": f"{_OPENAI_URL}/52378b407f34354e150460fe41077663dd5b39c54cd0bfd2b27167a4a06ec9aa/RN50x16.pt",
    },
    "RN50x64": {
        "image_encoder": {
            "type": "resnet", "stackwise_num_blocks": (3, 15, 36, 10), "output_dim": 1024, "num_heads": 64,
            "input_resolution": 448, "stem_filters": 128,
        },
        "text_encoder": {
            "max_sequence_length": 77, "vocabulary_size": 49408, "hidden_dim": 1024, "num_layers": 12,
            "num_heads": 16, "output_dim": 1024,
        },
        "url": f"{_OPENAI_URL}/be1cfb55d75a9666199fb2206c106743da0f6468c9d327f3e0d0a543a9919d9c/RN50x64.pt",
    },
}
