import * as pulumi from "@pulumi/pulumi";
import { defineConsumer } from "./consumer";

const consumer = defineConsumer(new pulumi.Config());

export const hubEndpoint = consumer.hubEndpoint;
export const codingModel = consumer.codingModel;
export const kubeApi = consumer.kubeApi;
export const kubeconfig = consumer.kubeconfig;
export const vaultNames = consumer.vaultNames;
