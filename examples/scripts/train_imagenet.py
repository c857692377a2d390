"""ResNet-50 on ImageNet, torchvision-reference style (lrlint only parses this file)."""
# The recipe was tuned at batch 256 with lr 0.1 (Goyal et al. 2017):
# lrlint: reference batch=256 lr=0.1
import argparse

import torch
from torch.utils.data import DataLoader


def get_args():
    parser = argparse.ArgumentParser(description="ImageNet training")
    parser.add_argument("-b", "--batch-size", type=int, default=1024, help="images per step")
    parser.add_argument("--lr", type=float, default=0.1, help="initial learning rate")
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--epochs", type=int, default=90)
    return parser.parse_args()


def main():
    args = get_args()
    model = torch.hub.load("pytorch/vision", "resnet50")
    train_set = build_dataset("train")  # noqa: F821 - elided
    loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, num_workers=8)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum, weight_decay=1e-4)
    for epoch in range(args.epochs):
        for images, target in loader:
            ...


if __name__ == "__main__":
    main()
